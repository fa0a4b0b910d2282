/**
 * Whole-cluster test inputs (SPEC §10, §11), independent of lib/: split a
 * SnapshotBuilder's records over Raft groups the way elastickv routes them
 * (object-scoped records by `!s3route|` ‖ seg(bucket) ‖ u64(gen) ‖
 * seg(object), everything else by its raw key), encode route catalog
 * records, and lay the group snapshots out as a node's raft data directory
 * or an elastickv offload store — each with decoys the tool must ignore.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildFsm, testCrc32c, type BuildFsmOptions } from './fsm.js';
import * as K from './keys.js';
import { SnapshotBuilder, type SnapshotEntry } from './snapshot.js';

/** A route of the catalog: [start, end) belongs to groupId. */
export interface TestRoute {
  routeId: number;
  groupId: number;
  start: Buffer | string;
  /** Undefined: +∞. */
  end?: Buffer | string;
  /** 0 active (default), 1 write-fenced, 2 migrating source, 3 migrating target. */
  state?: number;
  /** Codec version 1 or 2 (default 2). */
  version?: 1 | 2;
  parentRouteId?: number;
  splitAtHlc?: bigint;
}

const u64be = (n: bigint | number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

/** The catalog record key `!dist|route|` ‖ u64(routeID). */
export function catalogRouteKey(routeId: number): Buffer {
  return Buffer.concat([Buffer.from('!dist|route|', 'latin1'), u64be(routeId)]);
}

/** A route descriptor value, encoded as SPEC §10 step 2 describes. */
export function catalogRouteValue(r: TestRoute): Buffer {
  const version = r.version ?? 2;
  const start = K.bytes(r.start);
  const parts = [Buffer.from([version]), u64be(r.routeId), u64be(r.groupId), Buffer.from([r.state ?? 0]), u64be(r.parentRouteId ?? 0), u64be(start.length), start];
  if (r.end === undefined) parts.push(Buffer.from([0]));
  else {
    const end = K.bytes(r.end);
    parts.push(Buffer.from([1]), u64be(end.length), end);
  }
  if (version === 2) parts.push(u64be(r.splitAtHlc ?? 0n));
  return Buffer.concat(parts);
}

const OBJECT_SCOPED = ['!s3|obj|head|', '!s3|blob|', '!s3|chunkref|', '!s3|upload|meta|', '!s3|upload|part|', '!s3|gc|upload|'];

/** Index just past the seg() at `from` in key. */
function afterSeg(key: Buffer, from: number): number {
  for (let i = from; i + 1 < key.length; i++) {
    if (key[i] === 0 && key[i + 1] === 1) return i + 2;
    if (key[i] === 0) i++;
  }
  throw new Error(`no seg terminator in ${key.toString('latin1')}`);
}

/** The key elastickv routes a record by. */
export function testRouteKey(key: Buffer): Buffer {
  const p = OBJECT_SCOPED.find((f) => key.subarray(0, f.length).equals(Buffer.from(f, 'latin1')));
  if (p === undefined) return key;
  const end = afterSeg(key, afterSeg(key, p.length) + 8);
  return Buffer.concat([Buffer.from('!s3route|', 'latin1'), key.subarray(p.length, end)]);
}

/** The group owning a key under the routes (undefined: no route covers it). */
export function ownerOf(routes: readonly TestRoute[], key: Buffer): number | undefined {
  const rk = testRouteKey(key);
  const r = routes.find((x) => Buffer.compare(K.bytes(x.start), rk) <= 0 && (x.end === undefined || Buffer.compare(rk, K.bytes(x.end)) < 0));
  return r?.groupId;
}

/**
 * Splits a whole cluster's records over groups: every record goes to the
 * group owning its route key (records no route covers go to the first
 * group). The catalog records go to `catalogGroup` (default: the first).
 * Returns one SnapshotBuilder per group id, in the order of `groups`.
 */
export function splitCluster(snap: SnapshotBuilder, routes: readonly TestRoute[], groups: readonly number[], catalogGroup = groups[0]!): Map<number, SnapshotBuilder> {
  const out = new Map(groups.map((g) => [g, new SnapshotBuilder()] as const));
  const add = (g: number, e: SnapshotEntry): void => {
    const b = out.get(g)!;
    if (e.tombstone && e.value === undefined) b.tombstone(e.key, e.commitTs);
    else b.record(e.key, e.value, { commitTs: e.commitTs, tombstone: e.tombstone });
  };
  for (const r of routes) add(catalogGroup, { key: catalogRouteKey(r.routeId), value: catalogRouteValue(r), commitTs: 50n, tombstone: false });
  for (const e of snap.records()) add(ownerOf(routes, e.key) ?? groups[0]!, e);
  return out;
}

/** Node-style native snapshot bytes: sorted, EKVTHLC1 header, CRC32C footer. */
export const NODE_FSM: BuildFsmOptions = { sort: true, header: 'v1', footer: true, lastCommitTs: 1000n };

export const hex16 = (n: number | bigint): string => BigInt(n).toString(16).padStart(16, '0');

/** One group's snapshot file in a data directory. */
export interface DataDirSnapshot {
  raftId: string;
  /** Undefined: the single-group layout RAFTDIR/<raftID>/fsm-snap/. */
  groupId?: number;
  index: number;
  bytes: Buffer;
}

/**
 * Writes RAFTDIR/<raftID>/group-<N>/fsm-snap/<16 hex>.fsm files, plus decoys
 * discovery must skip: an older snapshot of each group (a different body:
 * decoding it would change the dump), a `.tmp` spool with a higher index,
 * a non-matching name, and the raft engine's own files. Returns the chosen
 * paths in order.
 */
export function writeDataDir(root: string, snaps: readonly DataDirSnapshot[], decoy: Buffer): string[] {
  const chosen: string[] = [];
  for (const s of snaps) {
    const dir = path.join(root, s.raftId, ...(s.groupId !== undefined ? [`group-${s.groupId}`] : []), 'fsm-snap');
    fs.mkdirSync(dir, { recursive: true });
    const p = path.join(dir, `${hex16(s.index)}.fsm`);
    fs.writeFileSync(p, s.bytes);
    chosen.push(p);
    if (s.index > 1) fs.writeFileSync(path.join(dir, `${hex16(s.index - 1)}.fsm`), decoy);
    fs.writeFileSync(path.join(dir, `${hex16(s.index + 16)}.fsm.tmp`), decoy);
    fs.writeFileSync(path.join(dir, 'snapshot.fsm'), decoy);
    const snapDir = path.join(path.dirname(dir), 'snap');
    fs.mkdirSync(snapDir, { recursive: true });
    fs.writeFileSync(path.join(snapDir, `0000000000000002-${hex16(s.index)}.snap`), 'raft snap');
  }
  return chosen;
}

const pad20 = (n: number | bigint): string => BigInt(n).toString().padStart(20, '0');
const sha256hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export interface OffloadSnapshot {
  groupId: number;
  index: number;
  term: number;
  /** The payload as uploaded (elastickv uploads the export without its footer). */
  payload: Buffer;
  /** Default: the payload's CRC32C; 0 leaves it unrecorded. */
  sourceCrc32c?: number;
  /** Overrides of the manifest's payload descriptor (corrupt manifests). */
  payloadBytes?: number;
  payloadSha256?: string;
}

/**
 * The manifest text elastickv's MarshalCanonical writes — typed out field by
 * field in Go's declaration order with json.MarshalIndent's layout — with a
 * correct self-hash (over the same text without `manifest_sha256`).
 */
export function offloadManifestText(s: OffloadSnapshot, tamper?: (text: string) => string): string {
  const sha = s.payloadSha256 ?? sha256hex(s.payload);
  const crc = s.sourceCrc32c ?? testCrc32c(s.payload);
  const key = `v1/groups/${s.groupId}/snapshots/${pad20(s.index)}-${pad20(s.term)}.json`;
  const body = (selfHash: string): string =>
    [
      '{',
      '  "schema_version": 1,',
      '  "created_at": "2026-04-29T12:34:56.5Z",',
      '  "source_cluster": "test-cluster",',
      `  "group_id": ${s.groupId},`,
      `  "snapshot_index": ${s.index},`,
      `  "snapshot_term": ${s.term},`,
      '  "conf_state": {',
      '    "voters": [',
      '      1,',
      '      2',
      '    ]',
      '  },',
      '  "payload": {',
      `    "key": "v1/payloads/sha256/${sha.slice(0, 2)}/${sha}.fsm",`,
      `    "bytes": ${s.payloadBytes ?? s.payload.length},`,
      `    "sha256": "${sha}",`,
      `    "source_crc32c": ${crc}`,
      '  },',
      `  "manifest_key": "${key}"${selfHash ? ',' : ''}`,
      ...(selfHash ? [`  "manifest_sha256": "${selfHash}"`] : []),
      '}',
    ].join('\n');
  const text = body(sha256hex(body(''))) + '\n';
  return tamper ? tamper(text) : text;
}

/** Writes an offload store at root: manifests and payloads; returns each manifest's path. */
export function writeOffloadStore(root: string, snaps: readonly OffloadSnapshot[], tamper?: (s: OffloadSnapshot, text: string) => string): string[] {
  return snaps.map((s) => {
    const sha = sha256hex(s.payload);
    const payloadPath = path.join(root, 'v1', 'payloads', 'sha256', sha.slice(0, 2), `${sha}.fsm`);
    fs.mkdirSync(path.dirname(payloadPath), { recursive: true });
    fs.writeFileSync(payloadPath, s.payload);
    const manifestPath = path.join(root, 'v1', 'groups', String(s.groupId), 'snapshots', `${pad20(s.index)}-${pad20(s.term)}.json`);
    fs.mkdirSync(path.dirname(manifestPath), { recursive: true });
    fs.writeFileSync(manifestPath, offloadManifestText(s, tamper ? (t) => tamper(s, t) : undefined));
    return manifestPath;
  });
}

/** A native snapshot as elastickv uploads it: the node's file without its CRC32C footer. */
export function offloadPayload(snap: SnapshotBuilder): Buffer {
  return buildFsm(snap.records(), { ...NODE_FSM, footer: false });
}
