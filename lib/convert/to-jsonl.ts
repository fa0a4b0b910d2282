/**
 * Records → JSON lines (SPEC §3.1), for `ekv-snapshot-jsonl` (native →
 * JSONL). One line per record, in input order, fields in this order:
 *
 *   {"key":"<b64>","value":"<b64>","commit_ts":<n>}
 *   {"key":"<b64>","commit_ts":<n>,"tombstone":true}                  (tombstone, empty body)
 *   {"key":"<b64>","value":"<b64>","commit_ts":<n>,"tombstone":true}  (tombstone with a body)
 *
 * - base64 is standard (RFC 4648 §4) with padding.
 * - `commit_ts` is always written: a JSON number up to 2^53−1, above that a
 *   decimal string (JSON numbers beyond 2^53 lose precision in most tools).
 * - A tombstone's `value` is written only when its body is non-empty
 *   (elastickv writes tombstones with an empty body). Keeping a non-empty
 *   one makes native → JSONL → native exact; readers ignore it (§3.1).
 * - A non-tombstone always has `value` (`""` for an empty body).
 * - The entry's expireAt is not carried: SnapshotRecord has no field for
 *   it, and S3 records never set it. `--to fsm` writes expireAt 0.
 *
 * Each line is built by string concatenation and written into a batch
 * buffer that is pushed once full (about `batchBytes`; a longer line gets a
 * buffer of its own), so a stream of small records costs one push per
 * batch, not one per line. Both
 * streams are Transforms: when the consumer is slow, push() reports it and
 * Node holds back the writable side (backpressure).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { FsmDecoder } from '../core/fsm-decoder.js';
import { recycleChunk } from '../io/file-chunks.js';
import type { SnapshotHeader, SnapshotRecord } from '../types.js';
import { MAX_U64 } from '../core/u64.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const DEFAULT_BATCH = 256 * 1024;

/** What a JSONL line is made from (a SnapshotRecord fits). */
export interface JsonlLineInput {
  key: Buffer;
  value: Buffer | null;
  commitTs: bigint;
  tombstone: boolean;
}

/** The JSON line of one record, with its trailing '\n'. Pure ASCII. */
export function jsonlLine(rec: JsonlLineInput): string {
  const ts = rec.commitTs;
  const tsText = ts <= MAX_SAFE ? (ts < 0n ? badTs(ts) : ts.toString()) : ts <= MAX_U64 ? `"${ts.toString()}"` : badTs(ts);
  const v = rec.value;
  if (rec.tombstone) {
    return v !== null && v.length > 0
      ? `{"key":"${rec.key.toString('base64')}","value":"${v.toString('base64')}","commit_ts":${tsText},"tombstone":true}\n`
      : `{"key":"${rec.key.toString('base64')}","commit_ts":${tsText},"tombstone":true}\n`;
  }
  return `{"key":"${rec.key.toString('base64')}","value":"${v === null ? '' : v.toString('base64')}","commit_ts":${tsText}}\n`;
}

function badTs(ts: bigint): never {
  throw new RangeError(`commit_ts ${ts} is outside the uint64 range`);
}

/** Options of the JSON-lines writer. */
export interface JsonlWriterOptions {
  /** JSONL bytes gathered before a push (default 256 KiB). */
  batchBytes?: number;
}

/** What the JSON-lines writer wrote. */
export interface JsonlWriterStats {
  records: number;
  tombstones: number;
  /** JSONL bytes produced. */
  bytesOut: number;
}

/**
 * Writes lines into a buffer of `limit` bytes and pushes it when the next
 * line does not fit (a line longer than that gets a buffer of its own);
 * shared by both streams below. Writing each line into the buffer is about
 * twice as fast as concatenating a batch string and encoding it at once.
 */
class LineBatcher {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  readonly stats: JsonlWriterStats = { records: 0, tombstones: 0, bytesOut: 0 };

  constructor(
    private readonly push: (b: Buffer) => void,
    private readonly limit: number,
  ) {}

  add(rec: JsonlLineInput): void {
    const line = jsonlLine(rec);
    this.stats.records++;
    if (rec.tombstone) this.stats.tombstones++;
    // Every character is ASCII: one byte each.
    const len = line.length;
    if (this.pos + len > this.buf.length) {
      this.flush();
      this.buf = Buffer.allocUnsafe(Math.max(this.limit, len));
    }
    this.pos += this.buf.write(line, this.pos, 'latin1');
  }

  flush(): void {
    if (this.pos === 0) return;
    const b = this.pos === this.buf.length ? this.buf : this.buf.subarray(0, this.pos);
    this.stats.bytesOut += this.pos;
    // The pushed bytes now belong to the consumer: continue in the rest of
    // the buffer only if it is worth it, else in a new one.
    if (this.buf.length - this.pos >= 16 * 1024) {
      this.buf = this.buf.subarray(this.pos);
    } else {
      this.buf = Buffer.alloc(0);
    }
    this.pos = 0;
    this.push(b);
  }
}

/**
 * SnapshotRecord objects in (e.g. from createFsmReader()), JSONL bytes out.
 */
export class JsonlWriter extends Transform {
  private readonly lines: LineBatcher;

  constructor(opts: JsonlWriterOptions = {}) {
    super({ writableObjectMode: true, readableObjectMode: false });
    this.lines = new LineBatcher((b) => this.push(b), opts.batchBytes ?? DEFAULT_BATCH);
  }

  get stats(): JsonlWriterStats {
    return this.lines.stats;
  }

  override _transform(rec: SnapshotRecord, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.lines.add(rec);
    } catch (err) {
      return cb(err as Error);
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.lines.flush();
    cb();
  }
}

/** Records in, JSONL bytes out. */
export function createJsonlWriter(opts: JsonlWriterOptions = {}): JsonlWriter {
  return new JsonlWriter(opts);
}

/** What the native-to-JSONL converter read and wrote. */
export interface FsmToJsonlStats extends JsonlWriterStats {
  /** Native bytes read. */
  bytesIn: number;
  /** Whether the input ended with a (matching) CRC-32C footer. */
  footer: boolean;
}

/**
 * Native snapshot bytes in, JSONL bytes out, in one stream: FsmDecoder and
 * the line builder without an object-mode hop between them (about 1.4× as
 * fast on small records as createFsmReader() piped into createJsonlWriter()).
 * Emits 'header' (SnapshotHeader: format 'fsm', lastCommitTs) once the
 * preamble is decoded. Decoding errors are the reader's DecodeErrors
 * (ERR_SNAPSHOT_*, with the byte offset).
 */
export class FsmToJsonl extends Transform {
  header: SnapshotHeader | undefined;
  private readonly decoder: FsmDecoder;
  private readonly lines: LineBatcher;
  private readonly addRecord: (rec: SnapshotRecord) => void;

  constructor(opts: JsonlWriterOptions = {}) {
    super();
    this.lines = new LineBatcher((b) => this.push(b), opts.batchBytes ?? DEFAULT_BATCH);
    this.addRecord = (rec) => this.lines.add(rec);
    // Values are encoded right away and never kept: zero copy always.
    this.decoder = new FsmDecoder({
      zeroCopyMin: 0,
      onHeader: (h) => {
        this.header = h;
        this.emit('header', h);
      },
    });
  }

  get stats(): FsmToJsonlStats {
    return { ...this.lines.stats, bytesIn: this.decoder.bytesConsumed, footer: this.decoder.hasFooter };
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.decoder.write(chunk, this.addRecord);
    } catch (err) {
      return cb(err as Error);
    } finally {
      // Every value is encoded into a line by now: a file read's memory can take the next read.
      recycleChunk(chunk);
    }
    this.lines.flush();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.decoder.end();
    } catch (err) {
      return cb(err as Error);
    }
    this.lines.flush();
    cb();
  }
}

/** Native snapshot bytes in, JSONL bytes out. */
export function createFsmToJsonl(opts: JsonlWriterOptions = {}): FsmToJsonl {
  return new FsmToJsonl(opts);
}
