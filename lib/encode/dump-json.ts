/**
 * Reading the JSON files of a dump (SPEC §6) back: MANIFEST.json,
 * _bucket.json, sidecars, KEYMAP.jsonl lines. Unknown fields are ignored,
 * as Go's decoder does; a field of the wrong type is an error. Strings are
 * made well-formed (a lone surrogate escape becomes U+FFFD, as Go decodes
 * it). Each parser throws DumpJsonError with a message naming the field.
 */
import { decodeBase64Strict } from '../core/base64.js';
import { LEAF_DATA_SUFFIX, META_SUFFIX, type KeymapKind } from '../core/names.js';
import { parseU64Decimal } from '../core/u64.js';
import type { DumpBucket, DumpSidecar } from './records.js';

export class DumpJsonError extends Error {
  override name = 'DumpJsonError';
}

type Obj = Record<string, unknown>;

function parseObject(bytes: Buffer, what: string): Obj {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new DumpJsonError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DumpJsonError(`${what} is not a JSON object`);
  return v as Obj;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A lone surrogate becomes U+FFFD, as Go's decoder reads a `\udXXX` escape without its pair. */
function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

function str(o: Obj, field: string, what: string): string {
  const v = o[field];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new DumpJsonError(`${what}: "${field}" must be a string`);
  return wellFormed(v);
}

function int(o: Obj, field: string, what: string): number {
  const v = o[field];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new DumpJsonError(`${what}: "${field}" must be an integer`);
  return v;
}

function formatVersion(o: Obj, what: string): void {
  const v = int(o, 'format_version', what);
  if (v !== 1) throw new DumpJsonError(`${what}: unsupported format_version ${v}`);
}

// RFC 3339 as Go's time.Parse(time.RFC3339Nano) reads it; the year may have
// more than 4 digits (our decoder writes years after 9999 that way).
const RFC3339 = /^(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch of an RFC 3339 time, or 0 for "" or anything unparsable or before 1970 (as elastickv's encoder). */
export function parseTimeMs(s: string): number {
  const m = RFC3339.exec(s);
  if (!m) return 0;
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > daysIn(y!, mo!) || h! > 23 || mi! > 59 || se! > 59) return 0;
  let off = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return 0;
    off = (m[8] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const date = new Date(0);
  date.setUTCFullYear(y!, mo! - 1, d!);
  date.setUTCHours(h!, mi!, se!, 0);
  const frac = m[7] === undefined ? 0 : Number((m[7] + '00').slice(0, 3));
  const ms = date.getTime() + frac - off;
  return Number.isSafeInteger(ms) && ms >= 0 && ms < 2 ** 48 ? ms : 0;
}

function daysIn(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(mo) ? 30 : 31;
}

/** The fields of MANIFEST.json the encoder and the checker use. */
export type DumpManifest = {
  lastCommitTs: bigint;
  clusterId: string;
  includeIncompleteUploads: boolean;
  includeOrphans: boolean;
  renameCollisions: boolean;
};

export function parseDumpManifest(bytes: Buffer): DumpManifest {
  const what = 'MANIFEST.json';
  const o = parseObject(bytes, what);
  formatVersion(o, what);
  if (o.phase !== 'phase0-snapshot-decode') throw new DumpJsonError(`${what}: unknown phase ${JSON.stringify(o.phase)}`);
  // last_commit_ts is a uint64: read its digits, not a double.
  const m = /"last_commit_ts"\s*:\s*(\d+)/.exec(bytes.toString('utf8'));
  const lastCommitTs = m ? parseU64Decimal(m[1]!) : 0n;
  if (lastCommitTs === undefined) throw new DumpJsonError(`${what}: last_commit_ts is out of the uint64 range`);
  const ex = o.exclusions;
  if (ex !== undefined && (ex === null || typeof ex !== 'object')) throw new DumpJsonError(`${what}: "exclusions" must be an object`);
  const flag = (f: string): boolean => {
    const v = (ex as Obj | undefined)?.[f];
    if (v !== undefined && typeof v !== 'boolean') throw new DumpJsonError(`${what}: exclusions.${f} must be a boolean`);
    return v === true;
  };
  return {
    lastCommitTs,
    clusterId: str(o, 'cluster_id', what),
    includeIncompleteUploads: flag('include_incomplete_uploads'),
    includeOrphans: flag('include_orphans'),
    renameCollisions: flag('rename_s3_collisions'),
  };
}

export function parseBucketJson(bytes: Buffer, what: string): DumpBucket {
  const o = parseObject(bytes, what);
  formatVersion(o, what);
  const name = str(o, 'name', what);
  if (name === '') throw new DumpJsonError(`${what}: empty bucket name`);
  return {
    name,
    createdMs: parseTimeMs(str(o, 'creation_time_iso', what)),
    owner: str(o, 'owner', what),
    region: str(o, 'region', what),
    acl: str(o, 'acl', what),
  };
}

export function parseSidecar(bytes: Buffer, what: string): DumpSidecar {
  const o = parseObject(bytes, what);
  formatVersion(o, what);
  const um = o.user_metadata;
  let userMetadata: Array<[string, string]> | null = null;
  if (um !== undefined && um !== null) {
    if (typeof um !== 'object' || Array.isArray(um)) throw new DumpJsonError(`${what}: "user_metadata" must be an object`);
    const entries = Object.entries(um as Obj).map(([k, v]): [string, string] => {
      if (typeof v !== 'string') throw new DumpJsonError(`${what}: user_metadata "${k}" must be a string`);
      return [wellFormed(k), wellFormed(v)];
    });
    if (entries.length > 0) userMetadata = entries;
  }
  const sizeBytes = int(o, 'size_bytes', what);
  if (sizeBytes < 0) throw new DumpJsonError(`${what}: negative size_bytes`);
  return {
    etag: str(o, 'etag', what),
    sizeBytes,
    lastModifiedMs: parseTimeMs(str(o, 'last_modified', what)),
    contentType: str(o, 'content_type', what),
    contentEncoding: str(o, 'content_encoding', what),
    cacheControl: str(o, 'cache_control', what),
    contentDisposition: str(o, 'content_disposition', what),
    userMetadata,
  };
}

export type KeymapRecord = { encoded: string; original: Buffer; kind: KeymapKind };

const KINDS: ReadonlySet<string> = new Set(['meta-suffix-rename', 's3-leaf-data', 'sha-fallback']);

/** One KEYMAP.jsonl line. */
export function parseKeymapLine(line: Buffer, what: string): KeymapRecord {
  const o = parseObject(line, what);
  const encoded = o.encoded;
  const original = o.original;
  const kind = o.kind;
  if (typeof encoded !== 'string' || encoded === '') throw new DumpJsonError(`${what}: "encoded" must be a non-empty string`);
  if (wellFormed(encoded) !== encoded) throw new DumpJsonError(`${what}: "encoded" is not a well-formed string`);
  if (typeof kind !== 'string' || !KINDS.has(kind)) throw new DumpJsonError(`${what}: unknown kind ${JSON.stringify(kind)}`);
  if (typeof original !== 'string') throw new DumpJsonError(`${what}: "original" must be a string`);
  let raw: Buffer;
  try {
    raw = decodeBase64Strict(original.replace(/-/g, '+').replace(/_/g, '/'), 'original', 0);
  } catch {
    raw = Buffer.alloc(0);
  }
  if (raw.length === 0) throw new DumpJsonError(`${what}: "original" is not base64url of a non-empty key`);
  // The invariants of each rename kind (elastickv's encoder checks them too).
  if (kind === 's3-leaf-data' && !encoded.endsWith(LEAF_DATA_SUFFIX)) throw new DumpJsonError(`${what}: an s3-leaf-data path must end in ${LEAF_DATA_SUFFIX}`);
  if (kind === 'meta-suffix-rename' && !raw.toString('latin1').endsWith(META_SUFFIX)) throw new DumpJsonError(`${what}: a meta-suffix-rename key must end in ${META_SUFFIX}`);
  return { encoded, original: raw, kind: kind as KeymapKind };
}
