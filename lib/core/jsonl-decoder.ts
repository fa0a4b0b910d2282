/**
 * JSON-lines snapshot decoding (SPEC §3.1), with no stream machinery: feed
 * byte chunks of any size, get SnapshotRecords. Lines are framed by hand:
 * a partial line is kept as a list of pieces and joined once, when its
 * newline arrives, so a 1.4 MB base64 line costs one copy no matter how
 * many chunks it spans (split2 re-splits its whole carry-over per chunk).
 */
import { DecodeError } from '../errors.js';
import type { SnapshotRecord } from '../types.js';
import { decodeBase64Strict } from './base64.js';

const MAX_U64 = (1n << 64n) - 1n;

export class JsonlDecoder {
  private pieces: Buffer[] = [];
  private line = 0;

  /** Decodes every line completed by this chunk. */
  write(chunk: Buffer, emit: (rec: SnapshotRecord) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      let lineBytes = chunk.subarray(start, nl);
      if (this.pieces.length > 0) {
        this.pieces.push(lineBytes);
        lineBytes = Buffer.concat(this.pieces);
        this.pieces = [];
      }
      this.line++;
      const rec = parseJsonlLine(lineBytes, this.line);
      if (rec) emit(rec);
      start = nl + 1;
    }
    if (start < chunk.length) this.pieces.push(chunk.subarray(start));
  }

  /** Decodes a last line that has no newline. */
  end(emit: (rec: SnapshotRecord) => void): void {
    if (this.pieces.length > 0) {
      const lineBytes = Buffer.concat(this.pieces);
      this.pieces = [];
      this.line++;
      const rec = parseJsonlLine(lineBytes, this.line);
      if (rec) emit(rec);
    }
  }

  /** Lines seen so far. */
  get lines(): number {
    return this.line;
  }
}

/** Parses one line (without its '\n'); null for a blank line. */
export function parseJsonlLine(bytes: Buffer, line: number): SnapshotRecord | null {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const text = bytes.toString('utf8', 0, end);
  if (text.trim() === '') return null;
  const fail = (detail: string) => new DecodeError('ERR_JSONL_LINE', detail, { line });
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw fail(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw fail('not a JSON object');
  const rec = obj as Record<string, unknown>;

  const tombstone = rec.tombstone ?? false;
  if (typeof tombstone !== 'boolean') throw fail('"tombstone" must be a boolean');
  const commitTs = parseCommitTs(rec.commit_ts, fail);

  const keyField = rec.key ?? null;
  if (keyField === null) throw fail('missing "key"');
  if (typeof keyField !== 'string') throw fail('"key" must be a base64 string');
  const key = decodeBase64Strict(keyField);
  if (typeof key === 'string') throw fail(`"key": ${key}`);

  const valueField = rec.value ?? null;
  let value: Buffer | null = null;
  if (valueField === null) {
    if (!tombstone) throw fail('missing "value"');
  } else {
    if (typeof valueField !== 'string') throw fail('"value" must be a base64 string');
    const v = decodeBase64Strict(valueField);
    if (typeof v === 'string') throw fail(`"value": ${v}`);
    value = tombstone ? null : v;
  }
  return { key, value, commitTs, tombstone, where: { line } };
}

function parseCommitTs(v: unknown, fail: (d: string) => DecodeError): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw fail('"commit_ts" must be a non-negative safe integer (use a decimal string above 2^53-1)');
    }
    return BigInt(v);
  }
  if (typeof v === 'string' && /^[0-9]{1,20}$/.test(v)) {
    const n = BigInt(v);
    if (n <= MAX_U64) return n;
  }
  throw fail('"commit_ts" must be a non-negative integer or a decimal string in the uint64 range');
}
