/**
 * --from-offload (SPEC §11): the inputs an elastickv physical-snapshot
 * offload store holds. Per group the manifest with the highest (index,
 * term) is used, its self-hash checked (offload-manifest.ts); its payload
 * (`v1/payloads/sha256/<2 hex>/<64 hex>.fsm`) is decoded as it streams
 * while its byte count, SHA-256 and CRC32C are computed, and compared
 * once it has been read: a mismatch is ERR_OFFLOAD_INTEGRITY and fails the
 * run before anything is published.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecodeError } from '../errors.js';
import { crc32c } from '../core/crc32c.js';
import type { ClusterInput, InputEnd } from '../cluster/input.js';
import { parseOffloadManifest, type OffloadManifest } from './offload-manifest.js';
import { getSmall, type SnapshotStore } from './store.js';

const MANIFEST_KEY = /^v1\/groups\/([0-9]{1,20})\/snapshots\/([0-9]{20})-([0-9]{20})\.json$/;
/** Manifests are a few hundred bytes; refuse anything absurd before reading it whole. */
const MAX_MANIFEST_BYTES = 1 << 20;

/** A manifest found by listing, before it is read. */
export interface ManifestRef {
  key: string;
  groupId: bigint;
  index: bigint;
  term: bigint;
}

/** Options of offloadInputs(). */
export interface OffloadOptions {
  /** Only these groups (--group); each must have a manifest. */
  groups?: readonly bigint[];
}

/** Per group, the manifest key with the highest (index, term). */
export async function newestManifests(store: SnapshotStore): Promise<ManifestRef[]> {
  const best = new Map<bigint, ManifestRef>();
  for await (const o of store.list('v1/groups/')) {
    const m = MANIFEST_KEY.exec(o.key);
    if (!m) continue;
    const ref = { key: o.key, groupId: BigInt(m[1]!), index: BigInt(m[2]!), term: BigInt(m[3]!) };
    const cur = best.get(ref.groupId);
    if (cur === undefined || ref.index > cur.index || (ref.index === cur.index && ref.term > cur.term)) best.set(ref.groupId, ref);
  }
  return [...best.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
}

/** The store key of a payload: what `payload.key` names, relative to the store (the manifest may carry the store's prefix). */
function payloadKey(m: OffloadManifest, where: string): string {
  const rel = `v1/payloads/sha256/${m.payload.sha256.slice(0, 2)}/${m.payload.sha256}.fsm`;
  if (m.payload.key !== rel && !m.payload.key.endsWith(`/${rel}`)) {
    throw new DecodeError('ERR_OFFLOAD_MANIFEST', `offload manifest payload.key ${JSON.stringify(m.payload.key)} is not the payload of sha256 ${m.payload.sha256} (${rel})`, { path: where });
  }
  return rel;
}

/** Reads, checks and turns the chosen manifests into inputs, in group order. */
export async function offloadInputs(store: SnapshotStore, opts: OffloadOptions = {}): Promise<ClusterInput[]> {
  let refs = await newestManifests(store);
  if (opts.groups) {
    const want = new Set(opts.groups);
    for (const g of want) {
      if (!refs.some((r) => r.groupId === g)) throw new DecodeError('ERR_OFFLOAD_MANIFEST', `no offload manifest for group ${g} (v1/groups/${g}/snapshots/)`, { path: store.describe('v1/groups/') });
    }
    refs = refs.filter((r) => want.has(r.groupId));
  }
  if (refs.length === 0) throw new DecodeError('ERR_OFFLOAD_MANIFEST', 'no offload manifest found (v1/groups/<id>/snapshots/<index>-<term>.json)', { path: store.describe('v1/groups/') });
  const inputs: ClusterInput[] = [];
  for (const ref of refs) {
    const where = store.describe(ref.key);
    const bytes = await getSmall(store, ref.key, MAX_MANIFEST_BYTES, (n) => new DecodeError('ERR_OFFLOAD_MANIFEST', `offload manifest is over ${n} bytes`, { path: where }));
    const m = parseOffloadManifest(bytes, where);
    if (m.groupId !== ref.groupId || m.snapshotIndex !== ref.index || m.snapshotTerm !== ref.term || (m.manifestKey !== ref.key && !m.manifestKey.endsWith(`/${ref.key}`))) {
      throw new DecodeError('ERR_OFFLOAD_MANIFEST', `offload manifest names group ${m.groupId}, index ${m.snapshotIndex}, term ${m.snapshotTerm}, key ${m.manifestKey}: not what its key says`, { path: where });
    }
    inputs.push(payloadInput(store, m, payloadKey(m, where)));
  }
  return inputs;
}

/** One payload as a cluster input whose bytes are checked against its manifest. */
function payloadInput(store: SnapshotStore, m: OffloadManifest, key: string): ClusterInput {
  const path = store.describe(key);
  let check: PayloadCheck | undefined;
  return {
    path,
    groupId: m.groupId,
    snapshotIndex: m.snapshotIndex,
    size: Number(m.payload.bytes),
    open: async () => {
      const body = await store.get(key);
      check = new PayloadCheck(m.payload.bytes, path);
      pipeline(body, check).catch((err: unknown) => check!.destroy(err as Error));
      return check;
    },
    verify: (end) => check!.verify(m, end),
  };
}

/**
 * Passes a payload's bytes through while counting them and computing their
 * SHA-256 and CRC32C — the CRC of every byte but the last 4 kept apart, as
 * the last 4 are the footer when the payload has one.
 */
export class PayloadCheck extends Transform {
  private bytes = 0n;
  private readonly sha: Hash = createHash('sha256');
  private crc = 0;
  private readonly tail = Buffer.alloc(4);
  private tailLen = 0;

  constructor(
    private readonly expectedBytes: bigint,
    private readonly path: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += BigInt(chunk.length);
    if (this.bytes > this.expectedBytes) return cb(this.mismatch(`payload is longer than the manifest's ${this.expectedBytes} bytes`));
    this.sha.update(chunk);
    // Hold back the last 4 bytes seen; everything before them goes into the CRC.
    const n = chunk.length;
    if (n >= 4) {
      this.crc = crc32c(chunk, crc32c(this.tail, this.crc, 0, this.tailLen), 0, n - 4);
      chunk.copy(this.tail, 0, n - 4);
      this.tailLen = 4;
    } else {
      const excess = Math.max(this.tailLen + n - 4, 0);
      this.crc = crc32c(this.tail, this.crc, 0, excess);
      this.tail.copyWithin(0, excess, this.tailLen);
      this.tailLen -= excess;
      chunk.copy(this.tail, this.tailLen);
      this.tailLen += n;
    }
    cb(null, chunk);
  }

  /** Checks the payload against its manifest once the reader has consumed it. */
  verify(m: OffloadManifest, end: InputEnd): void {
    if (this.bytes !== m.payload.bytes) throw this.mismatch(`payload is ${this.bytes} bytes, the manifest says ${m.payload.bytes}`);
    const sha = this.sha.digest('hex');
    if (sha !== m.payload.sha256) throw this.mismatch(`payload SHA-256 is ${sha}, the manifest says ${m.payload.sha256}`);
    if (m.payload.sourceCrc32c === 0n) return;
    // With a footer, the CRC covers every byte before it; without, every byte.
    const crc = end.footerCrc !== undefined ? this.crc : crc32c(this.tail, this.crc, 0, this.tailLen);
    if (BigInt(crc >>> 0) !== m.payload.sourceCrc32c) {
      throw this.mismatch(`payload CRC32C is ${(crc >>> 0).toString(16).padStart(8, '0')}, the manifest says ${m.payload.sourceCrc32c.toString(16).padStart(8, '0')}`);
    }
  }

  private mismatch(what: string): DecodeError {
    return new DecodeError('ERR_OFFLOAD_INTEGRITY', `${what}: the offloaded snapshot is corrupt or not the one its manifest describes`, { path: this.path });
  }
}
