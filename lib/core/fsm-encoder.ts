/**
 * Writes elastickv's native snapshot stream (SPEC §3.2), for JSONL → native
 * conversion (`ekv-snapshot-jsonl --to fsm`). The inverse of FsmDecoder.
 *
 * Entries must be written sorted by encoded key (userKey ‖ BE64(NOT
 * commitTs)), bytewise: sort with compareRecordsByEncodedKey (or
 * compareEncodedKeys on encodedKey()). That is bytewise order of the
 * concatenation, which is not always "userKey ascending, then commitTs
 * descending": when one user key is a prefix of another, the timestamp
 * bytes are compared against the longer key's bytes.
 */
import { Crc32c } from './crc32c.js';
import { FSM_MAGIC, FSM_HLC_V1, FSM_HLC_V2, FSM_MAX_KEY_LEN, FSM_MAX_VALUE_LEN, FSM_VALUE_HEADER_LEN } from './fsm-decoder.js';

const MASK64 = (1n << 64n) - 1n;

/** One entry to encode: user key, commit_ts, tombstone flag and value. */
export interface FsmEntryInput {
  /** User key (without the timestamp suffix). */
  key: Buffer;
  /** Body; null is written as an empty body (a tombstone without a value). */
  value: Buffer | null;
  commitTs: bigint;
  tombstone: boolean;
  /** Default 0n. */
  expireAt?: bigint;
}

/** What goes before the entries: optional HLC header and the EKVPBBL1 magic with lastCommitTS. */
export interface FsmPreambleOptions {
  lastCommitTs: bigint;
  /** HLC header to write before EKVPBBL1; default none (the bare stream). */
  header?: 'v1' | 'v2';
  /** HLC ceiling (u64); default 0n. */
  ceiling?: bigint;
  /** EKVTHLC2 cutover (u64); default 0n. */
  cutover?: bigint;
}

function checkU64(n: bigint, what: string): void {
  if (n < 0n || n > MASK64) throw new RangeError(`${what} ${n} is outside the uint64 range`);
}

/** The bytes before the first entry: optional HLC header, EKVPBBL1, lastCommitTS (u64 LE). */
export function fsmPreamble(opts: FsmPreambleOptions): Buffer {
  checkU64(opts.lastCommitTs, 'lastCommitTs');
  const ceiling = opts.ceiling ?? 0n;
  const cutover = opts.cutover ?? 0n;
  checkU64(ceiling, 'ceiling');
  checkU64(cutover, 'cutover');
  let hdr: Buffer;
  if (opts.header === 'v1') {
    hdr = Buffer.allocUnsafe(16);
    hdr.write(FSM_HLC_V1, 0, 'latin1');
    hdr.writeBigUInt64BE(ceiling, 8);
  } else if (opts.header === 'v2') {
    hdr = Buffer.allocUnsafe(26);
    hdr.write(FSM_HLC_V2, 0, 'latin1');
    hdr.writeUInt16BE(16, 8);
    hdr.writeBigUInt64BE(ceiling, 10);
    hdr.writeBigUInt64BE(cutover, 18);
  } else {
    hdr = Buffer.alloc(0);
  }
  const out = Buffer.allocUnsafe(hdr.length + 16);
  hdr.copy(out, 0);
  out.write(FSM_MAGIC, hdr.length, 'latin1');
  out.writeBigUInt64LE(opts.lastCommitTs, hdr.length + 8);
  return out;
}

/** userKey ‖ BE64(NOT commitTs): the key as stored in the snapshot. */
export function encodedKey(key: Buffer, commitTs: bigint): Buffer {
  checkU64(commitTs, 'commitTs');
  const out = Buffer.allocUnsafe(key.length + 8);
  key.copy(out, 0);
  out.writeBigUInt64BE(~commitTs & MASK64, key.length);
  return out;
}

/**
 * One entry's bytes: [keyLen ‖ encodedKey ‖ valLen ‖ flags ‖ expireAt] and,
 * when non-empty, the value body itself (not copied). Write them in order.
 */
export function encodeFsmEntry(rec: FsmEntryInput): Buffer[] {
  const key = rec.key;
  const body = rec.value ?? EMPTY;
  const keyLen = key.length + 8;
  const valLen = body.length + FSM_VALUE_HEADER_LEN;
  if (keyLen > FSM_MAX_KEY_LEN) throw new RangeError(`key of ${key.length} bytes is longer than the 1 MiB a snapshot allows`);
  if (valLen > FSM_MAX_VALUE_LEN) throw new RangeError(`value of ${body.length} bytes is longer than a snapshot allows (256 MiB + 34)`);
  checkU64(rec.commitTs, 'commitTs');
  const expireAt = rec.expireAt ?? 0n;
  checkU64(expireAt, 'expireAt');
  const head = Buffer.allocUnsafe(8 + keyLen + 8 + FSM_VALUE_HEADER_LEN);
  let o = 0;
  head.writeUInt32LE(keyLen, o);
  head.writeUInt32LE(0, o + 4);
  o += 8;
  key.copy(head, o);
  o += key.length;
  head.writeBigUInt64BE(~rec.commitTs & MASK64, o);
  o += 8;
  head.writeUInt32LE(valLen, o);
  head.writeUInt32LE(0, o + 4);
  o += 8;
  head[o++] = rec.tombstone ? 1 : 0;
  head.writeBigUInt64LE(expireAt, o);
  return body.length > 0 ? [head, body] : [head];
}

const EMPTY = Buffer.alloc(0);

/** The 4-byte footer for a CRC-32C value. */
export function fsmFooter(crc: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(crc >>> 0, 0);
  return b;
}

/** Bytewise comparison of two encoded keys (Buffer.compare). */
export function compareEncodedKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * Compares two records by encoded key (userKey ‖ BE64(NOT commitTs)),
 * bytewise, without building the encoded keys.
 */
export function compareRecordsByEncodedKey(a: { key: Buffer; commitTs: bigint }, b: { key: Buffer; commitTs: bigint }): number {
  const ka = a.key;
  const kb = b.key;
  const la = ka.length;
  const lb = kb.length;
  const m = la < lb ? la : lb;
  const c = ka.compare(kb, 0, m, 0, m);
  if (c !== 0) return c;
  if (la === lb) {
    // Same user key: NOT ts ascending = ts descending.
    return a.commitTs === b.commitTs ? 0 : a.commitTs > b.commitTs ? -1 : 1;
  }
  // One user key is a proper prefix of the other (rare): the timestamp
  // bytes of the shorter meet key bytes of the longer.
  return Buffer.compare(encodedKey(ka, a.commitTs), encodedKey(kb, b.commitTs));
}

/** Options of FsmEncoder: the preamble and footer to write. */
export interface FsmEncoderOptions extends FsmPreambleOptions {
  /** Append the CRC-32C footer (default true, as nodes write it). */
  footer?: boolean;
}

/**
 * Produces a whole snapshot piece by piece, keeping the running CRC-32C:
 * preamble() first, entry() per record (in encoded-key order), finish() last.
 * Every returned buffer must be written, in order.
 */
export class FsmEncoder {
  private readonly crc = new Crc32c();
  private readonly opts: FsmEncoderOptions;
  private state: 'new' | 'entries' | 'done' = 'new';
  /** Bytes produced so far. */
  bytes = 0;

  constructor(opts: FsmEncoderOptions) {
    this.opts = opts;
  }

  preamble(): Buffer {
    if (this.state !== 'new') throw new Error('FsmEncoder: preamble() must come first, once');
    this.state = 'entries';
    return this.track(fsmPreamble(this.opts));
  }

  entry(rec: FsmEntryInput): Buffer[] {
    if (this.state !== 'entries') throw new Error('FsmEncoder: entry() needs preamble() first and no finish()');
    const parts = encodeFsmEntry(rec);
    for (const p of parts) this.track(p);
    return parts;
  }

  /** The footer (or an empty buffer when footer: false). */
  finish(): Buffer {
    if (this.state !== 'entries') throw new Error('FsmEncoder: finish() needs preamble() first, once');
    this.state = 'done';
    if (this.opts.footer === false) return EMPTY;
    const f = fsmFooter(this.crc.digest());
    this.bytes += 4;
    return f;
  }

  private track(b: Buffer): Buffer {
    this.crc.update(b);
    this.bytes += b.length;
    return b;
  }
}
