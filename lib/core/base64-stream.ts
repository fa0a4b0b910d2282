/**
 * Strict standard base64 (RFC 4648 §4) decoded as it arrives, for a JSON
 * lines value too large to hold (lib/core/jsonl-big-line.ts): the same rules
 * and messages as decodeBase64Bytes (lib/core/base64.ts) — padding optional
 * but complete, no character outside the alphabet, positions counted from
 * the start of the string — with the output handed on in blocks.
 */
import type { DecodeError } from '../errors.js';
import { BAD_PADDING, base64Error, decodeInto, PIECE, TRUNCATED } from './base64.js';

/** Value of each base64 character, -1 for any other byte. */
const VALUES = new Int8Array(256).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) VALUES[c.charCodeAt(0)] = i;

/** Decodes base64 text fed in pieces into buffers of `blockBytes` from `take`, each passed to `onBlock` once full. */
export class Base64Stream {
  /** Characters seen so far (padding included). */
  private chars = 0;
  private padding = 0;
  /** Bits of the group being decoded, and how many characters it has. */
  private acc = 0;
  private inGroup = 0;
  private block: Buffer | undefined;
  private filled = 0;
  /** Decoded bytes so far. */
  length = 0;

  constructor(
    private readonly field: string,
    private readonly line: number,
    private readonly blockBytes: number,
    private readonly take: (length: number) => Buffer,
    private readonly onBlock: (bytes: Buffer) => void,
  ) {}

  /** Decodes text[start..end). */
  write(text: Buffer, start: number, end: number): void {
    let i = start;
    // Whole groups go through Node's decoder straight into the block; a group split by a
    // block's end or a piece's end, padding and any bad character go a character at a time.
    while (i < end) {
      if (this.padding > 0) return this.slow(text, i, end);
      // A group begun in the last piece is finished first, so the next starts on a group boundary.
      const n = this.inGroup === 0 ? this.fast(text, i, end) : -(4 - this.inGroup);
      if (n > 0) i += n;
      else this.slow(text, i, (i = Math.min(end, i + (n < 0 ? -n : 4))));
    }
  }

  /**
   * Decodes whole groups from text[start..) into the current block, as many as
   * fit (at most PIECE characters). Returns the characters taken; 0 when no
   * whole group fits; minus the characters tried when a bad character or
   * padding is among them (the slow path then goes over those, and reports
   * the character at its position).
   */
  private fast(text: Buffer, start: number, end: number): number {
    if (this.block === undefined) {
      this.block = this.take(this.blockBytes);
      this.filled = 0;
    }
    const groups = Math.min(Math.floor((end - start) / 4), Math.floor((this.blockBytes - this.filled) / 3), PIECE / 4);
    if (groups === 0) return 0;
    const n = groups * 4;
    const got = groups * 3;
    if (!decodeInto(text, start, start + n, this.block, this.filled, got)) return -n;
    this.chars += n;
    this.length += got;
    this.filled += got;
    if (this.filled === this.blockBytes) {
      const full = this.block;
      this.block = undefined;
      this.onBlock(full);
    }
    return n;
  }

  /** Decodes text[start..end) a character at a time. */
  private slow(text: Buffer, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      const c = text[i]!;
      const v = VALUES[c]!;
      if (v < 0 || this.padding > 0) this.odd(c);
      else {
        this.acc = (this.acc << 6) | v;
        if (++this.inGroup === 4) {
          this.out(this.acc >>> 16);
          this.out((this.acc >>> 8) & 0xff);
          this.out(this.acc & 0xff);
          this.acc = 0;
          this.inGroup = 0;
        }
      }
      this.chars++;
    }
  }

  /** The end of the string: checks its length and padding, and hands on the last (partial) block. */
  end(): void {
    const groupChars = (this.chars - this.padding) % 4;
    if (this.padding > 0 && this.chars % 4 !== 0) throw this.bad(BAD_PADDING);
    if (groupChars === 1) throw this.bad(TRUNCATED);
    if (groupChars === 2) this.out((this.acc >>> 4) & 0xff);
    if (groupChars === 3) {
      this.out((this.acc >>> 10) & 0xff);
      this.out((this.acc >>> 2) & 0xff);
    }
    if (this.block !== undefined && this.filled > 0) this.onBlock(this.block.subarray(0, this.filled));
    this.block = undefined;
  }

  /** A byte outside the alphabet: padding at the end, or an error. */
  private odd(c: number): void {
    if (c === 0x3d /* = */ && this.padding < 2 && (this.chars - this.padding) % 4 >= 2) {
      this.padding++;
      return;
    }
    // What decodeBase64Bytes reports: an '=' not at the end is an invalid character too.
    throw this.bad(`invalid base64 character at position ${this.chars - this.padding}`);
  }

  private out(byte: number): void {
    if (this.block === undefined) {
      this.block = this.take(this.blockBytes);
      this.filled = 0;
    }
    this.block[this.filled++] = byte;
    this.length++;
    if (this.filled === this.blockBytes) {
      const full = this.block;
      this.block = undefined;
      this.onBlock(full);
    }
  }

  private bad(reason: string): DecodeError {
    return base64Error(this.field, this.line, reason);
  }
}
