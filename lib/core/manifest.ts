/**
 * MANIFEST.json (SPEC §6), written like elastickv's WriteManifest: two-space
 * indent, HTML escaping off, a trailing newline, the Phase 0 fields in order.
 */
import { marshalIndent, type GoStruct } from './gojson.js';

export interface ManifestInfo {
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
}

/** One input of a whole-cluster dump, as MANIFEST.json `groups` lists it. */
export interface GroupEntry {
  groupId?: bigint;
  path: string;
  snapshotIndex?: bigint;
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

export function renderManifest(m: ManifestInfo): Buffer {
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
  if (m.groups) v.groups = m.groups.map(groupJson);
  return Buffer.from(marshalIndent(v, { escapeHtml: false }) + '\n');
}

/** The snapshot index a node encodes in its file name: `<16 hex digits>.fsm`. */
export function snapshotIndexFromPath(p: string): bigint | undefined {
  const m = /(?:^|\/)([0-9a-fA-F]{16})\.fsm$/.exec(p);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}
