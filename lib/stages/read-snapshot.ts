/**
 * Snapshot reader: bytes in, SnapshotRecord objects out (and, with
 * `valuePieces`, the ValuePieces of a large value after its record:
 * lib/stages/value-pieces.ts; a long JSON line's value waits in scratch
 * for the end of its line, lib/stages/value-staging.ts). The input format is
 * detected from the first bytes (SPEC §2): a native magic (`EKVPBBL1`,
 * `EKVTHLC…`, `EKVSSTI1`) selects the .fsm decoder; JSON text (blank lines,
 * then a byte that can start JSON) JSON lines; anything else is refused as
 * neither (ERR_SNAPSHOT_BAD_MAGIC). `format` forces one. Emits 'header' (SnapshotHeader) before the first
 * record. Decoding itself lives in lib/core (FsmDecoder, JsonlDecoder).
 * With `emptyIsError` (decodeSnapshot) an empty input (0 bytes) is not an
 * empty snapshot but a mistake — a truncated copy, or stdin read by
 * accident — and fails (ERR_IO). A native input without a CRC32C footer is
 * warned about (`snapshot_unverified`): a cut at an entry boundary would go
 * unnoticed.
 */
import { PAYLOAD_RECORDS } from './queue.js';
import { Transform, type TransformCallback } from 'node:stream';
import { FsmDecoder } from '../core/fsm-decoder.js';
import { looksLikeFsm } from '../core/fsm-format.js';
import { footerFirst } from '../core/footer-first.js';
import { JsonlDecoder } from '../core/jsonl-decoder.js';
import { printable } from '../core/printable.js';
import { DecodeError } from '../errors.js';
import { BLOCK_BYTES, takeBlock, takeValueBuffer, viewOf } from '../io/shared-blocks.js';
import { ValueStaging } from './value-staging.js';
import os from 'node:os';
import { recycleChunk } from '../io/file-chunks.js';
import type { SnapshotHeader, SnapshotRecord, ValuePiece, WarningHandler } from '../types.js';

/** A snapshot's input form: JSON lines or native. */
export type InputFormat = 'jsonl' | 'fsm';

/** Options of the record parser. */
export interface SnapshotReaderOptions {
  /** Force a format instead of detecting it. */
  format?: InputFormat;
  /** Records buffered on the readable side before backpressure (default PAYLOAD_RECORDS). */
  readableHighWaterMark?: number;
  /** The input's name in errors and warnings (default "-"). */
  source?: string;
  /** Fail (ERR_IO) on an input of 0 bytes instead of reading it as JSON lines without records. */
  emptyIsError?: boolean;
  /** Told `snapshot_unverified` at the end of a native input without a CRC32C footer. */
  onWarning?: WarningHandler;
  /**
   * Values larger than a block (1 MiB; in JSON lines, those of lines over
   * BIG_LINE_BYTES) are not held whole: their records carry `valueLength`
   * and the bytes follow as ValuePiece items (lib/stages/value-pieces.ts).
   * Only for consumers that know pieces: the decode pipeline's stages do.
   */
  valuePieces?: boolean;
  /** Where a long JSON line's value waits for the end of its line (default: the OS temp dir). */
  scratchDir?: string;
}

/** A JSON line longer than this is read as it arrives, its value staged in scratch (with valuePieces). */
export const BIG_LINE_BYTES = 2 << 20;

interface RecordDecoder {
  /** Returns how much of the chunk was taken, when not all of it (a long JSON line ended). */
  write(chunk: Buffer, emit: (rec: SnapshotRecord) => void): number | void;
  end(emit: (rec: SnapshotRecord) => void): void;
}

const DETECT_BYTES = 8;
/** Input bytes the reader buffers before it pushes back on its source. */
const INPUT_BUFFER_BYTES = 16 * 1024;

/** Record parser stage: snapshot bytes in, SnapshotRecords out (format detected from the first bytes unless forced). */
export class SnapshotReader extends Transform {
  /** Input bytes seen so far. */
  bytesRead = 0;
  /** Records decoded so far. */
  records = 0;
  header: SnapshotHeader | undefined;
  /** After the end of a native input: the value of its CRC32C footer (it matched), or undefined without one. */
  footerCrc: number | undefined;
  /** The last 4 input bytes (the footer, if the input has one). */
  private readonly tail = Buffer.alloc(4);
  private decoder: RecordDecoder | undefined;
  private readonly forced: InputFormat | undefined;
  private readonly source: string;
  private readonly emptyIsError: boolean;
  private readonly onWarning: WarningHandler | undefined;
  private readonly valuePieces: boolean;
  /** Where a long JSON line's value is staged; set before the run starts (see decode.ts). */
  scratchDir: string | undefined;
  private readonly staging = new ValueStaging(() => this.scratchDir ?? os.tmpdir());
  /** A long JSON line's record, held until its staged value can follow it. */
  private held: SnapshotRecord | undefined;
  /** Resolves a wait for the consumer to want more (pushing a staged value). */
  private wake: (() => void) | undefined;
  private head: Buffer[] = [];
  private readonly emitRecord = (rec: SnapshotRecord) => {
    this.records++;
    this.push(rec);
  };
  private readonly emitJsonl = (rec: SnapshotRecord) => {
    if (rec.valueLength === undefined) {
      // A long tombstone line's value was staged for nothing.
      if (rec.tombstone) this.staging.discard();
      return this.emitRecord(rec);
    }
    this.records++;
    this.held = rec;
  };

  constructor(opts: SnapshotReaderOptions = {}) {
    // Explicit byte buffering on the input side: Node 22+ raised the default from 16 to 64 KiB.
    super({ readableObjectMode: true, writableObjectMode: false, readableHighWaterMark: opts.readableHighWaterMark ?? PAYLOAD_RECORDS, writableHighWaterMark: INPUT_BUFFER_BYTES });
    this.forced = opts.format;
    this.source = opts.source ?? '-';
    this.emptyIsError = opts.emptyIsError ?? false;
    this.onWarning = opts.onWarning;
    this.valuePieces = opts.valuePieces ?? false;
    this.scratchDir = opts.scratchDir;
  }

  /** After the end of the input: whether a native input's CRC32C footer was there and matched (undefined for JSON lines). */
  get footerVerified(): boolean | undefined {
    return this.header?.format === 'fsm' ? this.footerCrc !== undefined : undefined;
  }

  override _transform(input: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytesRead += input.length;
    keepTail(this.tail, input);
    let chunk = input;
    try {
      if (!this.decoder && this.head.length === 0 && (input.length >= DETECT_BYTES || this.forced)) {
        this.start(input);
      } else if (!this.decoder) {
        // The first bytes came in pieces shorter than the magic: gathered (copied: the input is recycled).
        this.head.push(Buffer.from(input));
        const head = Buffer.concat(this.head);
        if (head.length < DETECT_BYTES && !this.forced) return cb();
        this.head = [];
        this.start(head);
        chunk = head;
      }
    } catch (err) {
      recycleChunk(input);
      return cb(err as Error);
    }
    // The decoders copied out all they keep (see start()): then the input's memory can take the next read.
    const done = (err?: Error | null): void => {
      recycleChunk(input);
      cb(err);
    };
    let waiting: Promise<void> | undefined;
    try {
      waiting = this.feed(chunk, 0);
    } catch (err) {
      return done(err as Error);
    }
    if (waiting) waiting.then(() => done(), done);
    else done();
  }

  /** Decodes chunk[at..]; a promise when a long line's value is passed on first (the rest follows it). */
  private feed(chunk: Buffer, at: number): Promise<void> | undefined {
    while (at < chunk.length) {
      at += this.decoder!.write(at === 0 ? chunk : chunk.subarray(at), this.emitRecord) ?? chunk.length - at;
      if (this.held) return this.passHeld().then(() => this.feed(chunk, at));
    }
    return undefined;
  }

  /** The held record of a long JSON line, then its staged value as pieces, each once the consumer wants more. */
  private async passHeld(): Promise<void> {
    const rec = this.held!;
    this.held = undefined;
    await this.pushWhenWanted(rec);
    await this.staging.pieces(rec.valueLength!, (p) => this.pushWhenWanted(p));
  }

  private pushWhenWanted(item: SnapshotRecord | ValuePiece): Promise<void> | void {
    if (this.push(item)) return;
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  override _read(size: number): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    super._read(size);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.staging.close();
    super._destroy(err, cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.bytesRead === 0 && this.emptyIsError) return cb(new DecodeError('ERR_IO', 'input is empty (0 bytes): nothing to decode', { path: this.source }));
    try {
      if (!this.decoder) {
        const head = Buffer.concat(this.head);
        this.start(head);
        this.decoder!.write(head, this.emitRecord);
      }
      this.decoder!.end(this.emitRecord);
    } catch (err) {
      return cb(err as Error);
    }
    if (!this.held) return cb();
    this.passHeld().then(() => cb(), cb);
  }

  private start(head: Buffer): void {
    const format = this.forced ?? (looksLikeFsm(head) ? 'fsm' : 'jsonl');
    if (!this.forced && format === 'jsonl' && !looksLikeJson(head)) {
      throw new DecodeError(
        'ERR_SNAPSHOT_BAD_MAGIC',
        `neither a native snapshot nor JSON lines: the input starts with ${printable(head.subarray(0, DETECT_BYTES))} (expected EKVPBBL1, EKVTHLC1/2, EKVSSTI1 or a JSON object per line)`,
        { offset: 0 },
      );
    }
    if (format === 'fsm') {
      // Every large value is copied into a shared block (hashed there, then reused: lib/io/shared-blocks.ts) or,
      // lying in a file read of shared memory, held there; JSONL values are decoded into a block and lines joined
      // in the framer's own buffer. So no record refers to an input chunk that is not held for it.
      const pieces = this.valuePieces ? { onPiece: (p: ValuePiece) => void this.push(p), pieceBytes: BLOCK_BYTES } : {};
      const raw = new FsmDecoder({ onHeader: (h) => this.announce(h), valueBuffer: takeValueBuffer, valueView: viewOf, ...pieces });
      const fsm = footerFirst(raw);
      const end = (): void => {
        fsm.end();
        if (raw.hasFooter) this.footerCrc = this.tail.readUInt32BE(0);
        else this.onWarning?.({ event: 'snapshot_unverified', input: this.source, reason: 'no CRC32C footer: a cut at an entry boundary cannot be detected' });
      };
      this.decoder = { write: (c, emit) => fsm.write(c, emit), end };
    } else {
      const big = this.valuePieces ? { lineBytes: BIG_LINE_BYTES, blockBytes: BLOCK_BYTES, take: takeBlock, onBytes: (b: Buffer) => this.staging.stage(b) } : undefined;
      const jsonl = new JsonlDecoder(undefined, takeValueBuffer, big);
      this.decoder = { write: (c) => jsonl.write(c, this.emitJsonl), end: () => jsonl.end(this.emitJsonl) };
      this.announce({ format: 'jsonl' });
    }
  }

  private announce(h: SnapshotHeader): void {
    this.header = h;
    this.emit('header', h);
  }
}

/** JSON whitespace (blank lines), then a byte a JSON text can start with — or only whitespace so far. */
function looksLikeJson(head: Buffer): boolean {
  for (const c of head) {
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) continue;
    // { [ " - 0-9 t f n: anything else cannot begin a JSON line.
    return c === 0x7b || c === 0x5b || c === 0x22 || c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e;
  }
  return true;
}

/** Shifts `chunk` into `tail`, which then holds the last tail.length bytes seen. */
function keepTail(tail: Buffer, chunk: Buffer): void {
  const n = Math.min(chunk.length, tail.length);
  tail.copyWithin(0, n);
  chunk.copy(tail, tail.length - n, chunk.length - n);
}

/** A reader that detects the format, unless opts.format forces one. */
export function createSnapshotReader(opts: SnapshotReaderOptions = {}): SnapshotReader {
  return new SnapshotReader(opts);
}

/** The record parser for JSON-lines input (SPEC §3.1). */
export function createJsonlReader(opts: Omit<SnapshotReaderOptions, 'format'> = {}): SnapshotReader {
  return new SnapshotReader({ ...opts, format: 'jsonl' });
}

/** The record parser for native snapshot input (SPEC §3.2). */
export function createFsmReader(opts: Omit<SnapshotReaderOptions, 'format'> = {}): SnapshotReader {
  return new SnapshotReader({ ...opts, format: 'fsm' });
}
