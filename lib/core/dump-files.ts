/**
 * The dump's own files, rendered byte for byte (SPEC §6, §5.9, §8): the
 * bucket's `_bucket.json`, an object's sidecar, `KEYMAP.jsonl`,
 * `_skipped.jsonl`, `_incomplete_uploads/records.jsonl` and the dump
 * manifest `MANIFEST.json`. (CHECKSUMS is rendered by ChecksumList in
 * ./checksums.ts: it is built file by file as the dump is written.)
 * Pure: bytes in, bytes out.
 */
import type { ErrorCode } from '../errors.js';
import type { UploadRecord } from '../types.js';
import { encodeLine, GoMap, marshalIndent, type GoStruct } from './gojson-write.js';
import type { BucketMeta, ObjectManifest } from './s3-schemas.js';
import { hlcToTime } from './hlc.js';
import { keymapOriginal, type KeymapKind } from './names.js';

/** `_bucket.json`: its name from the key, not from the meta's bucket_name (§5.1). */
export function renderBucketJson(name: Buffer, meta: BucketMeta): Buffer {
  return Buffer.from(
    marshalIndent(
      omitEmpty({
        format_version: 1,
        name,
        creation_time_iso: hlcToTime(meta.createdAtHlc) ?? '',
        owner: meta.owner,
        region: meta.region,
        acl: meta.acl,
      }),
    ),
  );
}

/** An object's sidecar `<body>.elastickv-meta.json`. */
export function renderSidecar(m: ObjectManifest): Buffer {
  const meta: GoStruct = {
    format_version: 1,
    etag: m.etag,
    size_bytes: m.sizeBytes,
    last_modified: hlcToTime(m.lastModifiedHlc) ?? '',
    content_type: m.contentType,
    content_encoding: m.contentEncoding,
    cache_control: m.cacheControl,
    content_disposition: m.contentDisposition,
  };
  // size_bytes is always present, even when 0.
  const out = omitEmpty(meta, 'size_bytes');
  if (m.userMetadata.size > 0) out.user_metadata = new GoMap(m.userMetadata);
  return Buffer.from(marshalIndent(out));
}

/** One KEYMAP.jsonl line to be: an object written at another path than its key. */
export interface KeymapLine {
  /** Body path relative to the bucket directory. */
  encoded: Buffer;
  /** The object key. */
  key: Buffer;
  kind: KeymapKind;
}

/** KEYMAP.jsonl, lines sorted by `encoded` (sorts `lines` in place). */
export function renderKeymap(lines: KeymapLine[]): Buffer {
  lines.sort((x, y) => Buffer.compare(x.encoded, y.encoded));
  return jsonLines(lines.map((k) => ({ encoded: k.encoded, original: keymapOriginal(k.key), kind: k.kind })));
}

/** An object left out under --keep-going: what _skipped.jsonl keeps of it (not the error object). */
export interface SkippedObject {
  object: Buffer;
  code: ErrorCode;
  detail: string;
}

/** _skipped.jsonl, lines sorted by object bytes (sorts `skipped` in place). */
export function renderSkipped(skipped: SkippedObject[]): Buffer {
  skipped.sort((x, y) => Buffer.compare(x.object, y.object));
  return jsonLines(skipped.map((s) => ({ object: keymapOriginal(s.object), reason: s.code, detail: s.detail })));
}

/** `_incomplete_uploads/records.jsonl`: each upload record's winning version, sorted by key bytes. */
export function renderUploads(uploads: readonly UploadRecord[]): Buffer {
  return jsonLines(
    [...uploads]
      .sort((x, y) => Buffer.compare(x.key, y.key))
      .map((u) => ({ prefix: u.prefix, key: u.key.toString('base64'), value: (u.value ?? Buffer.alloc(0)).toString('base64') })),
  );
}

/** What MANIFEST.json says about a run. */
export interface DumpManifestInfo {
  clusterId?: string;
  snapshotIndex?: bigint;
  /** lastCommitTS of a native snapshot (absent or 0 → omitted). */
  lastCommitTs?: bigint;
  wallTime: Date;
  /** Input path, or "-" for standard input. */
  source: string;
  /** Names of the buckets that hold at least one file. */
  buckets: Buffer[];
  includeIncompleteUploads: boolean;
  includeOrphans: boolean;
  renameCollisions: boolean;
  decoder: string;
  /** Whole-cluster runs with two or more inputs (SPEC §10 rule 4): one entry per input, in order. */
  groups?: GroupEntry[];
  /** --bucket / --prefix, when given: recorded so a partial dump says it is one. */
  filters?: DumpFilters;
}

/** The selection a dump was made with (MANIFEST.json `filters`). */
export interface DumpFilters {
  buckets?: string[];
  prefix?: string;
}

/** One input of a whole-cluster dump, as MANIFEST.json `groups` lists it. */
export interface GroupEntry {
  /** The Raft group, when known. */
  groupId?: bigint;
  /** The input's path. */
  path: string;
  /** The input's snapshot index, when known. */
  snapshotIndex?: bigint;
  /** The input's lastCommitTS (0 or absent: omitted). */
  lastCommitTs?: bigint;
  /** Entries read. */
  records: number;
  /** The input's verified CRC32C footer. */
  crc32c?: number;
}

function groupJson(g: GroupEntry): GoStruct {
  const v: GoStruct = {};
  if (g.groupId !== undefined) v.group_id = g.groupId;
  v.path = g.path;
  if (g.snapshotIndex !== undefined) v.snapshot_index = g.snapshotIndex;
  if (g.lastCommitTs) v.last_commit_ts = g.lastCommitTs;
  v.records = g.records;
  if (g.crc32c !== undefined) v.crc32c = (g.crc32c >>> 0).toString(16).padStart(8, '0');
  return v;
}

/**
 * The dump manifest MANIFEST.json, written like elastickv's WriteManifest:
 * two-space indent, HTML escaping off, a trailing newline, the Phase 0
 * fields in order.
 */
export function renderDumpManifest(m: DumpManifestInfo): Buffer {
  const v: GoStruct = { format_version: 1, phase: 'phase0-snapshot-decode' };
  if (m.clusterId) v.cluster_id = m.clusterId;
  if (m.snapshotIndex !== undefined) v.snapshot_index = m.snapshotIndex;
  if (m.lastCommitTs) v.last_commit_ts = m.lastCommitTs;
  v.wall_time_iso = m.wallTime.toISOString().replace(/\.?0+Z$/, 'Z');
  v.source = { fsm_path: m.source };
  const buckets = [...m.buckets].sort(Buffer.compare);
  v.adapters = { s3: buckets.length > 0 ? { buckets } : {} };
  const exclusions: GoStruct = {
    include_incomplete_uploads: m.includeIncompleteUploads,
    include_orphans: m.includeOrphans,
    preserve_sqs_visibility: false,
    include_sqs_side_records: false,
  };
  if (m.renameCollisions) exclusions.rename_s3_collisions = true;
  v.exclusions = exclusions;
  Object.assign(v, {
    checksum_algorithm: 'sha256',
    checksum_format: 'sha256sum',
    encoded_filename_charset: 'rfc3986-unreserved-plus-percent',
    key_segment_max_bytes: 240,
    s3_meta_suffix: '.elastickv-meta.json',
    s3_collision_strategy: 'leaf-data-suffix',
    dynamodb_layout: 'per-item',
    decoder: m.decoder,
  });
  const f = m.filters;
  if (f && (f.buckets?.length || f.prefix)) {
    const filters: GoStruct = {};
    // Sorted bytewise without repeats: the same selection gives the same MANIFEST.json.
    if (f.buckets?.length) filters.buckets = [...new Set(f.buckets)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    if (f.prefix) filters.prefix = f.prefix;
    v.filters = filters;
  }
  if (m.groups) v.groups = m.groups.map(groupJson);
  return Buffer.from(marshalIndent(v, { escapeHtml: false }) + '\n');
}

/** The snapshot index a node encodes in its file name: `<16 hex digits>.fsm`. */
export function snapshotIndexFromPath(p: string): bigint | undefined {
  const m = /(?:^|\/)([0-9a-fA-F]{16})\.fsm$/.exec(p);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/** JSONL (Go json.Encoder lines, HTML escaping off). */
function jsonLines(values: Array<Record<string, string | Buffer>>): Buffer {
  return Buffer.from(values.map((v) => encodeLine(v, { escapeHtml: false })).join(''));
}

/** Drops empty strings and zero numbers, as the Go structs' omitempty tags do. */
function omitEmpty(s: GoStruct, keep?: string): GoStruct {
  const out: GoStruct = {};
  for (const [k, v] of Object.entries(s)) {
    if (k !== keep && (v === '' || v === 0n || (Buffer.isBuffer(v) && v.length === 0))) continue;
    out[k] = v;
  }
  return out;
}
