/**
 * One JSON line too long to hold (a value of many MiB, SPEC §3.1), scanned
 * as its bytes arrive: the `value` string is base64-decoded on the fly
 * (lib/core/base64-stream.ts) into blocks handed on one by one; every other
 * member's JSON text is kept (it is small: a key is at most ~1.4 MB of
 * base64) and parsed with JSON.parse when it ends. At the end of the line
 * the members are judged by the same rules as a line held whole
 * (jsonl-decoder.ts).
 *
 * The grammar is JSON's for one object; a member's value may be any JSON
 * (nested ones are kept as text like the others); an escape in the `value`
 * string stands for what it does in JSON (`\/` is a slash; anything that is
 * no base64 character fails as such, at its position). Invalid UTF-8 anywhere is an
 * error, as for a whole line (outside the kept texts only ASCII can pass the
 * grammar and the base64 alphabet).
 */
import { isUtf8 } from 'node:buffer';
import { DecodeError } from '../errors.js';
import { Base64Stream } from './base64-stream.js';
import { printable } from './printable.js';

/** The most JSON text kept for one member other than `value` (a 1 MiB + 8 byte key in base64, and room). */
const MEMBER_MAX = 2 << 20;

const enum S {
  Start,
  Name,
  Colon,
  Value,
  Base64,
  Base64Escape,
  Base64Unicode,
  Token,
  AfterValue,
  Done,
}

/** What a long line held: every member but a `value` string parsed, and that string's decoded length. */
export interface BigLineFields {
  fields: Record<string, unknown>;
  /** Decoded bytes of the `value` string (undefined: no `value` string). */
  valueLength: number | undefined;
}

/** What each one-character JSON escape stands for. */
const ESCAPED: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };

const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/** Scans one long line fed in pieces; the decoded `value` goes to `onValue` in blocks of `blockBytes` from `take`. */
export class BigLine {
  private s = S.Start;
  /** The current name's or member's JSON text: pieces kept so far, and where it started in the chunk being fed (-1: not in one). */
  private text: Buffer[] = [];
  private textBytes = 0;
  private from = -1;
  private name = '';
  /** Member text scanning: nesting depth, inside a string, after a backslash. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  private value: Base64Stream | undefined;
  /** The hex digits of a \u escape in the value, so far. */
  private hex = '';
  private readonly fields: Record<string, unknown> = {};

  constructor(
    private readonly line: number,
    private readonly blockBytes: number,
    private readonly take: (length: number) => Buffer,
    private readonly onValue: (bytes: Buffer) => void,
  ) {}

  /** Scans chunk[start..end) (no newline in it). */
  feed(chunk: Buffer, start: number, end: number): void {
    const collecting = this.s === S.Name ? this.inString : this.s === S.Token;
    this.from = collecting ? start : -1;
    let i = start;
    while (i < end) {
      if (this.s === S.Base64) {
        // The bulk of the line: decode everything before the string's end (or an escape).
        let stop = chunk.indexOf(0x22 /* " */, i);
        if (stop === -1 || stop > end) stop = end;
        const esc = chunk.indexOf(0x5c /* \ */, i);
        if (esc !== -1 && esc < stop) stop = esc;
        this.value!.write(chunk, i, stop);
        i = stop;
        if (i === end) break;
        if (chunk[i] === 0x5c) this.s = S.Base64Escape;
        else {
          this.value!.end();
          this.s = S.AfterValue;
        }
        i++;
        continue;
      }
      this.step(chunk, i);
      i++;
    }
    if (this.from >= 0) this.keep(chunk.subarray(this.from, end));
  }

  /** The end of the line: the members, parsed. */
  finish(): BigLineFields {
    if (this.s !== S.Done) throw this.fail('not valid JSON (the line ends inside its object)');
    return { fields: this.fields, valueLength: this.value?.length };
  }

  private step(chunk: Buffer, i: number): void {
    const c = chunk[i]!;
    switch (this.s) {
      case S.Start:
        if (isWs(c)) return;
        if (c !== 0x7b /* { */) throw this.fail(`not a JSON object: the line starts with ${printable(Buffer.from([c]))}`);
        this.s = S.Name;
        return;
      case S.Name:
        if (this.inString) {
          if (this.stringEnds(c)) this.name = this.endText(chunk, i, true) as string;
          return;
        }
        if (isWs(c)) return;
        if (c === 0x7d /* } */ && Object.keys(this.fields).length === 0 && this.value === undefined) return void (this.s = S.Done);
        if (c !== 0x22) throw this.syntax(c);
        this.inString = true;
        this.from = i + 1;
        return;
      case S.Colon:
        if (isWs(c)) return;
        if (c !== 0x3a /* : */) throw this.syntax(c);
        this.s = S.Value;
        return;
      case S.Value:
        if (isWs(c)) return;
        if (c === 0x22 && this.name === 'value') {
          if (this.value) throw this.fail('"value" appears twice');
          this.value = new Base64Stream('value', this.line, this.blockBytes, this.take, this.onValue);
          this.s = S.Base64;
          return;
        }
        this.s = S.Token;
        this.depth = 0;
        this.escaped = false;
        this.from = i;
        return this.token(chunk, i);
      case S.Base64Escape: {
        // The character an escape stands for goes to the base64 decoder, which judges it as in a line held whole.
        if (c === 0x75 /* u */) return void ((this.s = S.Base64Unicode), (this.hex = ''));
        const ch = ESCAPED[c];
        if (ch === undefined) throw this.fail(`not valid JSON (bad escape \\${printable(Buffer.from([c]))} in "value")`);
        this.value!.write(Buffer.from([ch]), 0, 1);
        this.s = S.Base64;
        return;
      }
      case S.Base64Unicode: {
        this.hex += String.fromCharCode(c);
        if (!/^[0-9a-fA-F]*$/.test(this.hex)) throw this.fail(`not valid JSON (bad escape \\u${printable(Buffer.from(this.hex, 'latin1'))} in "value")`);
        if (this.hex.length < 4) return;
        const code = parseInt(this.hex, 16);
        // A character beyond ASCII is no base64 character: any byte ≥ 0x80 makes the decoder say so.
        this.value!.write(Buffer.from([code < 0x80 ? code : 0x80]), 0, 1);
        this.s = S.Base64;
        return;
      }
      case S.Token:
        return this.token(chunk, i);
      case S.AfterValue:
        if (isWs(c)) return;
        if (c === 0x2c /* , */) return void (this.s = S.Name);
        if (c === 0x7d) return void (this.s = S.Done);
        throw this.syntax(c);
      case S.Done:
        if (!isWs(c)) throw this.syntax(c);
        return;
    }
  }

  /** A byte of a member's JSON text (anything but a `value` string): the text ends before a , } ] or space at depth 0. */
  private token(chunk: Buffer, i: number): void {
    const c = chunk[i]!;
    if (this.inString) return void this.stringEnds(c);
    if (c === 0x22) this.inString = true;
    else if (c === 0x7b || c === 0x5b) this.depth++;
    else if ((c === 0x7d || c === 0x5d) && this.depth > 0) this.depth--;
    else if (this.depth === 0 && (c === 0x2c || c === 0x7d || c === 0x5d || isWs(c))) {
      this.fields[this.name] = this.endText(chunk, i, false);
      this.s = S.AfterValue;
      this.step(chunk, i);
    }
  }

  /** Tracks a string's escapes: true at its closing quote. */
  private stringEnds(c: number): boolean {
    if (this.escaped) this.escaped = false;
    else if (c === 0x5c) this.escaped = true;
    else if (c === 0x22) {
      this.inString = false;
      return true;
    }
    return false;
  }

  private keep(bytes: Buffer): void {
    this.textBytes += bytes.length;
    if (this.textBytes > MEMBER_MAX) throw this.fail(`a member other than "value" longer than ${MEMBER_MAX} bytes`);
    this.text.push(Buffer.from(bytes));
  }

  /** The text that ends before chunk[i], parsed as JSON (a name: the string it spells). */
  private endText(chunk: Buffer, i: number, name: boolean): unknown {
    this.keep(chunk.subarray(this.from, i));
    this.from = -1;
    const bytes = Buffer.concat(this.text);
    this.text = [];
    this.textBytes = 0;
    if (name) this.s = S.Colon;
    // The rest of the line is ASCII: base64, or structure the grammar checks byte by byte.
    if (!isUtf8(bytes)) throw this.fail('not valid UTF-8');
    const json = name ? `"${bytes.toString('utf8')}"` : bytes.toString('utf8');
    try {
      return JSON.parse(json);
    } catch (e) {
      throw this.fail(`not valid JSON (${printable(Buffer.from((e as Error).message))})`);
    }
  }

  private syntax(c: number): DecodeError {
    return this.fail(`not valid JSON (unexpected ${printable(Buffer.from([c]))})`);
  }

  private fail(detail: string): DecodeError {
    return new DecodeError('ERR_JSONL_LINE', detail, { line: this.line });
  }
}
