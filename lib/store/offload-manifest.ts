/**
 * elastickv's physical-snapshot offload manifest (SPEC §11):
 * `v1/groups/<group id>/snapshots/<%020d index>-<%020d term>.json`, a Go
 * `json.MarshalIndent` document whose `manifest_sha256` is the SHA-256 of
 * the same document re-serialized with that field empty (and so omitted).
 * Decoding follows Go's json.Unmarshal (unknown fields ignored, names
 * matched case-insensitively), so the re-serialization is the struct's,
 * field for field and in declaration order — not the stored bytes.
 */
import { createHash } from 'node:crypto';
import { DecodeError } from '../errors.js';
import { decodeStruct } from '../core/gojson-read.js';
import { GoJsonError } from '../core/gojson-error.js';
import { Schema } from '../core/gojson-schema.js';
import { marshalIndent, type GoStruct } from '../core/gojson-write.js';

/** The manifest's `conf_state`: the group's Raft membership. */
export type OffloadConfState = {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
};

/** The manifest's `payload`: where the snapshot bytes are and what they hash to. */
export type OffloadPayload = {
  key: string;
  /** int64 */
  bytes: bigint;
  sha256: string;
  /** uint32; 0: not recorded. */
  sourceCrc32c: bigint;
};

/** An offload manifest as Go's json.Unmarshal decodes it (field names as Go declares them). */
export type OffloadManifest = {
  schemaVersion: bigint;
  /** RFC 3339 text, as stored. */
  createdAt: string;
  sourceCluster: string;
  groupId: bigint;
  snapshotIndex: bigint;
  snapshotTerm: bigint;
  confState: OffloadConfState;
  payload: OffloadPayload;
  binaryVersion: string;
  manifestKey: string;
  manifestSha256: string;
};

const CONF_STATE_SCHEMA = new Schema([
  { name: 'voters', type: 'uint64-array' },
  { name: 'learners', type: 'uint64-array' },
  { name: 'voters_outgoing', prop: 'votersOutgoing', type: 'uint64-array' },
  { name: 'learners_next', prop: 'learnersNext', type: 'uint64-array' },
  { name: 'auto_leave', prop: 'autoLeave', type: 'bool' },
]);

const PAYLOAD_SCHEMA = new Schema([
  { name: 'key', type: 'string' },
  { name: 'bytes', type: 'int64' },
  { name: 'sha256', type: 'string' },
  { name: 'source_crc32c', prop: 'sourceCrc32c', type: 'uint64' },
]);

const MANIFEST_SCHEMA = new Schema([
  { name: 'schema_version', prop: 'schemaVersion', type: 'int64' },
  { name: 'created_at', prop: 'createdAt', type: 'string' },
  { name: 'source_cluster', prop: 'sourceCluster', type: 'string' },
  { name: 'group_id', prop: 'groupId', type: 'uint64' },
  { name: 'snapshot_index', prop: 'snapshotIndex', type: 'uint64' },
  { name: 'snapshot_term', prop: 'snapshotTerm', type: 'uint64' },
  { name: 'conf_state', prop: 'confState', type: { struct: CONF_STATE_SCHEMA } },
  { name: 'payload', type: { struct: PAYLOAD_SCHEMA } },
  { name: 'binary_version', prop: 'binaryVersion', type: 'string' },
  { name: 'manifest_key', prop: 'manifestKey', type: 'string' },
  { name: 'manifest_sha256', prop: 'manifestSha256', type: 'string' },
]);

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A time.Time as Go's MarshalJSON writes it back (RFC 3339 with nanoseconds,
 * trailing fraction zeros trimmed, a zero offset as "Z"), or undefined when
 * Go's UnmarshalJSON would refuse the text.
 */
export function goTimeCanonical(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string];
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59)) return undefined;
  const fraction = (frac ?? '').replace(/0+$/, '');
  const offset = zone === 'Z' || /^[+-]00:00$/.test(zone) ? 'Z' : zone;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction ? `.${fraction}` : ''}${offset}`;
}

/** The manifest as Go marshals it: declaration order, `omitempty` fields left out when empty. */
export function canonicalManifest(m: OffloadManifest, createdAt: string): string {
  const conf: GoStruct = {};
  if (m.confState.voters.length) conf.voters = m.confState.voters;
  if (m.confState.learners.length) conf.learners = m.confState.learners;
  if (m.confState.votersOutgoing.length) conf.voters_outgoing = m.confState.votersOutgoing;
  if (m.confState.learnersNext.length) conf.learners_next = m.confState.learnersNext;
  if (m.confState.autoLeave) conf.auto_leave = true;
  const v: GoStruct = { schema_version: m.schemaVersion, created_at: createdAt };
  if (m.sourceCluster) v.source_cluster = m.sourceCluster;
  Object.assign(v, {
    group_id: m.groupId,
    snapshot_index: m.snapshotIndex,
    snapshot_term: m.snapshotTerm,
    conf_state: conf,
    payload: { key: m.payload.key, bytes: m.payload.bytes, sha256: m.payload.sha256, source_crc32c: m.payload.sourceCrc32c },
  });
  if (m.binaryVersion) v.binary_version = m.binaryVersion;
  v.manifest_key = m.manifestKey;
  if (m.manifestSha256) v.manifest_sha256 = m.manifestSha256;
  return marshalIndent(v);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Decodes and checks one manifest: Go-decodable, schema_version 1, a
 * well-formed payload descriptor, and the self-hash. `where` names it in
 * errors (ERR_OFFLOAD_MANIFEST).
 */
export function parseOffloadManifest(bytes: Buffer, where: string): OffloadManifest {
  const bad = (what: string): DecodeError => new DecodeError('ERR_OFFLOAD_MANIFEST', `offload manifest ${what}`, { path: where });
  let m: OffloadManifest;
  try {
    m = decodeStruct<OffloadManifest>(bytes, MANIFEST_SCHEMA);
  } catch (e) {
    if (e instanceof GoJsonError) throw bad(`does not decode: ${e.message}`);
    throw e;
  }
  if (m.schemaVersion !== 1n) throw bad(`has schema_version ${m.schemaVersion}, only 1 is understood`);
  const createdAt = goTimeCanonical(m.createdAt);
  if (createdAt === undefined) throw bad(`created_at ${JSON.stringify(m.createdAt)} is not an RFC 3339 time`);
  if (m.snapshotIndex === 0n || m.snapshotTerm === 0n) throw bad('has a zero snapshot_index or snapshot_term');
  if (!SHA256_HEX.test(m.payload.sha256)) throw bad('payload.sha256 is not 64 lowercase hex characters');
  if (m.payload.bytes < 0n) throw bad('payload.bytes is negative');
  if (m.payload.sourceCrc32c > 0xffffffffn) throw bad('payload.source_crc32c exceeds uint32');
  if (!SHA256_HEX.test(m.manifestSha256)) throw bad('manifest_sha256 is not 64 lowercase hex characters');
  const sum = createHash('sha256').update(canonicalManifest({ ...m, manifestSha256: '' }, createdAt)).digest('hex');
  if (sum !== m.manifestSha256) throw bad(`self-hash mismatch: manifest_sha256 is ${m.manifestSha256}, the manifest hashes to ${sum}`);
  return m;
}
