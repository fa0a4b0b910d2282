/**
 * JSON-lines snapshot decoding (SPEC §3.1), with no stream machinery: feed
 * byte chunks of any size, get SnapshotRecords. Lines are framed by
 * LineFramer (one copy per line however many chunks it spans).
 *
 * With `bigValues`, a line that grows past `lineBytes` is not held: it is
 * scanned as it arrives (lib/core/jsonl-big-line.ts), its `value` decoded
 * into blocks handed to `onBytes` (the caller keeps them — on disk — until
 * the line ends), and its record comes with `valueLength` instead of a
 * value. write() then stops right after that line: the caller passes the
 * value on before it feeds the rest of the chunk.
 */
import { isUtf8 } from 'node:buffer';
import { DecodeError } from '../errors.js';
import type { SnapshotRecord } from '../types.js';
import { BigLine, type BigLineFields } from './jsonl-big-line.js';
import { LineFramer } from './line-framer.js';
import { printable } from './printable.js';
import { decodeBase64Bytes, decodeBase64Strict } from './base64.js';
import { parseU64Decimal } from './u64.js';

/**
 * The longest line a record can take: a value of 256 MiB + 43 bytes and a key
 * of 1 MiB + 8 (SPEC §3.2's limits) in base64, plus room for the envelope.
 */
export const MAX_LINE_BYTES = base64Length(256 * 1024 * 1024 + 43) + base64Length(1024 * 1024 + 8) + 64 * 1024;

function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

/** Long lines' values, decoded as they arrive (see above). */
export interface JsonlBigValues {
  /** A line longer than this is scanned as it arrives instead of held. */
  lineBytes: number;
  /** Size of the blocks the value is decoded into (from `take`); the last is shorter. */
  blockBytes: number;
  take: (length: number) => Buffer;
  /** Receives each block of the value of the long line being read. */
  onBytes: (bytes: Buffer) => void;
}

/** JSON-lines snapshot decoding (SPEC §3.1) with no stream machinery: feed byte chunks, get SnapshotRecords. */
export class JsonlDecoder {
  // Lines are parsed synchronously and nothing keeps their bytes: the framer may reuse its buffer.
  private readonly framer = new LineFramer({ reuse: true });
  private line = 0;
  /** The long line being scanned, and its length so far. */
  private big: BigLine | undefined;
  private bigBytes = 0;

  /** `valueBuffer` allocates the buffer a value is decoded into (default: a new one). */
  constructor(
    private readonly maxLineBytes = MAX_LINE_BYTES,
    private readonly valueBuffer?: (length: number) => Buffer,
    private readonly bigValues?: JsonlBigValues,
  ) {}

  /**
   * Decodes the lines completed by this chunk. Returns how much of it was
   * taken: all of it, unless a long line ended in it (see above).
   */
  write(chunk: Buffer, emit: (rec: SnapshotRecord) => void): number {
    if (this.big) {
      const nl = chunk.indexOf(0x0a);
      const end = nl === -1 ? chunk.length : nl;
      this.bigBytes += end;
      if (this.bigBytes > this.maxLineBytes) throw lineError(`line longer than ${this.maxLineBytes} bytes, the most a record can take`, this.line + 1);
      this.big.feed(chunk, 0, end);
      if (nl === -1) return chunk.length;
      this.endBig(emit);
      return nl + 1;
    }
    this.framer.write(chunk, (bytes) => this.decode(bytes, emit));
    // The unfinished line is judged before it is held whole: what cannot be
    // a JSON object, or is longer than any record, fails now (a 300 MB line
    // without a newline, /dev/zero).
    const first = this.framer.pendingFirstByte;
    if (first !== -1 && first !== 0x7b /* { */) {
      throw lineError(`not a JSON object: the line starts with ${printable(Buffer.from([first]))}`, this.line + 1);
    }
    if (this.framer.pendingBytes > this.maxLineBytes) {
      throw lineError(`line longer than ${this.maxLineBytes} bytes, the most a record can take`, this.line + 1);
    }
    const big = this.bigValues;
    if (big && this.framer.pendingBytes > big.lineBytes) {
      const pending = this.framer.takePending();
      this.big = new BigLine(this.line + 1, big.blockBytes, big.take, big.onBytes);
      this.bigBytes = pending.length;
      this.big.feed(pending, 0, pending.length);
    }
    return chunk.length;
  }

  /** Decodes a last line that has no newline. */
  end(emit: (rec: SnapshotRecord) => void): void {
    if (this.big) return this.endBig(emit);
    this.framer.end((bytes) => this.decode(bytes, emit));
  }

  private endBig(emit: (rec: SnapshotRecord) => void): void {
    const big = this.big!;
    this.big = undefined;
    emit(bigRecord(big.finish(), ++this.line));
  }

  private decode(bytes: Buffer, emit: (rec: SnapshotRecord) => void): void {
    const rec = parseJsonlLine(bytes, ++this.line, this.valueBuffer);
    if (rec) emit(rec);
  }

  /** Lines seen so far. */
  get lines(): number {
    return this.line;
  }
}

/** Parses one line (without its '\n'); null for a blank line. `valueBuffer` as for JsonlDecoder. */
export function parseJsonlLine(bytes: Buffer, line: number, valueBuffer?: (length: number) => Buffer): SnapshotRecord | null {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const fields = scanFields(bytes, end) ?? parseFields(bytes, end, line);
  return fields && toRecord(fields, line, valueBuffer);
}

/** A JSON string still in the line's bytes (no escapes in it). */
class RawString {
  constructor(
    readonly buf: Buffer,
    readonly start: number,
    readonly end: number,
  ) {}

  toString(): string {
    return this.buf.toString('latin1', this.start, this.end);
  }
}

interface Fields {
  key?: unknown;
  value?: unknown;
  commit_ts?: unknown;
  tombstone?: unknown;
}

/** The general path: JSON.parse of the decoded line. */
function parseFields(bytes: Buffer, end: number, line: number): Fields | null {
  // Blank means JSON whitespace only: VT, FF, NBSP, U+FEFF… are not blank.
  if (skipWs(bytes, 0, end) === end) return null;
  // toString would turn invalid bytes into U+FFFD silently (a damaged field name would then just be unknown).
  if (!isUtf8(bytes.subarray(0, end))) throw lineError('not valid UTF-8', line);
  const text = bytes.toString('utf8', 0, end);
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the line: never echo its raw control bytes.
    throw lineError(`not valid JSON (${printable(Buffer.from((e as Error).message))})`, line);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw lineError('not a JSON object', line);
  return obj as Fields;
}

const FIELDS = new Set(['key', 'value', 'commit_ts', 'tombstone']);

/**
 * The fast path for the usual line shape: a flat object of strings without
 * escapes, plain integers, booleans and nulls. The base64 strings are left
 * in the line's bytes, so a 1.4 MB value is never decoded to a UTF-16 string
 * nor parsed by JSON.parse. Anything else returns undefined and takes the
 * general path (which also produces the error messages).
 */
function scanFields(b: Buffer, end: number): Fields | undefined {
  let i = skipWs(b, 0, end);
  if (b[i] !== 0x7b /* { */) return undefined;
  const f: Fields = {};
  i = skipWs(b, i + 1, end);
  if (b[i] === 0x7d /* } */) return skipWs(b, i + 1, end) === end ? f : undefined;
  for (;;) {
    if (b[i] !== 0x22) return undefined;
    const nameEnd = b.indexOf(0x22, i + 1);
    if (nameEnd === -1 || nameEnd >= end || !plainString(b, i + 1, nameEnd)) return undefined;
    const name = b.toString('latin1', i + 1, nameEnd);
    i = skipWs(b, nameEnd + 1, end);
    if (b[i] !== 0x3a /* : */) return undefined;
    i = skipWs(b, i + 1, end);
    let v: unknown;
    const c = b[i]!;
    if (c === 0x22) {
      const close = b.indexOf(0x22, i + 1);
      if (close === -1 || close >= end) return undefined;
      // Key and value are checked as base64 (which rejects control bytes); other strings here.
      if (name === 'key' || name === 'value' ? b.subarray(i + 1, close).indexOf(0x5c) !== -1 : !plainString(b, i + 1, close)) return undefined;
      v = new RawString(b, i + 1, close);
      i = close + 1;
    } else if (c >= 0x30 && c <= 0x39) {
      let j = i + 1;
      while (j < end && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
      const next = b[j];
      if (j - i > 15 || (c === 0x30 && j - i > 1) || next === 0x2e || next === 0x65 || next === 0x45) return undefined;
      v = Number(b.toString('latin1', i, j));
      i = j;
    } else if (literal(b, i, end, 'true')) {
      v = true;
      i += 4;
    } else if (literal(b, i, end, 'false')) {
      v = false;
      i += 5;
    } else if (literal(b, i, end, 'null')) {
      v = null;
      i += 4;
    } else {
      return undefined;
    }
    if (FIELDS.has(name)) f[name as keyof Fields] = v;
    i = skipWs(b, i, end);
    if (b[i] === 0x2c /* , */) {
      i = skipWs(b, i + 1, end);
      continue;
    }
    if (b[i] !== 0x7d) return undefined;
    return skipWs(b, i + 1, end) === end ? f : undefined;
  }
}

function skipWs(b: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    i++;
  }
  return i;
}

/**
 * No escapes, no control bytes and ASCII only: the bytes are the string.
 * (Non-ASCII goes to the general path, which checks that it is UTF-8.)
 */
function plainString(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i]! < 0x20 || b[i]! >= 0x80 || b[i] === 0x5c) return false;
  return true;
}

function literal(b: Buffer, i: number, end: number, word: string): boolean {
  if (i + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
  const next = b[i + word.length];
  return i + word.length === end || next === 0x2c || next === 0x7d || next === 0x20 || next === 0x09 || next === 0x0d || next === 0x0a;
}

function lineError(detail: string, line: number): DecodeError {
  return new DecodeError('ERR_JSONL_LINE', detail, { line });
}

/** §3.1 field rules, shared by both paths. */
function toRecord(rec: Fields, line: number, valueBuffer: ((length: number) => Buffer) | undefined): SnapshotRecord {
  const fail = (detail: string) => lineError(detail, line);
  const tombstone = rec.tombstone ?? false;
  if (typeof tombstone !== 'boolean') throw fail('"tombstone" must be a boolean');
  const commitTs = parseCommitTs(rec.commit_ts instanceof RawString ? rec.commit_ts.toString() : rec.commit_ts, fail);

  const keyField = rec.key ?? null;
  if (keyField === null) throw fail('missing "key"');
  const key = base64Field(keyField, 'key', line);
  if (key === undefined) throw fail('"key" must be a base64 string');

  const valueField = rec.value ?? null;
  let value: Buffer | null = null;
  if (valueField === null) {
    if (!tombstone) throw fail('missing "value"');
  } else {
    const v = base64Field(valueField, 'value', line, valueBuffer);
    if (v === undefined) throw fail('"value" must be a base64 string');
    value = tombstone ? null : v;
  }
  return { key, value, commitTs, tombstone, where: { line } };
}

/** The record of a long line: its value, decoded already, is `valueLength` bytes handed on elsewhere. */
function bigRecord(big: BigLineFields, line: number): SnapshotRecord {
  const fields = big.fields as Fields;
  if (big.valueLength === undefined) return toRecord(fields, line, undefined);
  if ('value' in fields) throw lineError('"value" appears twice', line);
  // The same rules as for a line held whole, with a stand-in for the value (valid base64, as it was).
  const rec = toRecord({ ...fields, value: '' }, line, undefined);
  return rec.tombstone ? rec : { ...rec, value: null, valueLength: big.valueLength };
}

/** Decoded bytes, or undefined when not a string at all; bad base64 throws. */
function base64Field(v: unknown, field: string, line: number, into?: (length: number) => Buffer): Buffer | undefined {
  if (v instanceof RawString) return decodeBase64Bytes(v.buf, v.start, v.end, field, line, into);
  if (typeof v === 'string') return decodeBase64Strict(v, field, line);
  return undefined;
}

function parseCommitTs(v: unknown, fail: (d: string) => DecodeError): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw fail('"commit_ts" must be a non-negative safe integer (use a decimal string above 2^53-1)');
    }
    return BigInt(v);
  }
  const n = typeof v === 'string' ? parseU64Decimal(v) : undefined;
  if (n !== undefined) return n;
  throw fail('"commit_ts" must be a non-negative integer or a decimal string in the uint64 range');
}
