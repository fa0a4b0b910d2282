/**
 * The JSON syntax under the Go-JSON reader: whitespace, literals, numbers,
 * strings unquoted like Go (invalid UTF-8 → U+FFFD per byte, lone
 * surrogate escapes → U+FFFD) and skipping whole values, with Go's error
 * messages and its nesting limit. Errors are GoJsonErrors naming the byte
 * offset.
 */
import { GoJsonError } from './gojson-error.js';
import { decodeRune, runeWidth } from './utf8.js';

/** Go's encoding/json scanner nesting limit. */
export const MAX_DEPTH = 10_000;

/** A cursor over JSON bytes. */
export class JsonScanner {
  pos = 0;
  readonly n: number;
  readonly b: Buffer;

  constructor(bytes: Uint8Array) {
    this.b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.n = bytes.length;
  }

  fail(msg: string): never {
    throw new GoJsonError(`${msg} (at byte ${this.pos})`);
  }

  show(): string {
    if (this.pos >= this.n) return 'end of input';
    const c = this.b[this.pos]!;
    return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16).padStart(2, '0')}`;
  }

  ws(): void {
    const b = this.b;
    let i = this.pos;
    while (i < this.n) {
      const c = b[i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.pos = i;
  }

  /** The byte at pos, or -1 at the end (an error wherever a value is due). */
  peek(): number {
    if (this.pos >= this.n) this.fail('unexpected end of JSON input');
    return this.b[this.pos]!;
  }

  expect(c: number, what: string): void {
    this.ws();
    if (this.peek() !== c) this.fail(`invalid character ${this.show()} ${what}`);
    this.pos++;
  }

  literal(word: 'null' | 'true' | 'false'): void {
    for (let k = 0; k < word.length; k++) {
      if (this.pos >= this.n) this.fail('unexpected end of JSON input');
      if (this.b[this.pos] !== word.charCodeAt(k)) this.fail(`invalid character ${this.show()} in literal ${word}`);
      this.pos++;
    }
  }


  /** Scan a JSON number at pos; returns whether it is an integer literal. */
  number(): boolean {
    const b = this.b;
    const n = this.n;
    let i = this.pos;
    let integer = true;
    if (b[i] === 0x2d) i++;
    if (i >= n) {
      this.pos = i;
      this.fail('unexpected end of JSON input');
    }
    const c = b[i]!;
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      i++;
      while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
    } else {
      this.pos = i;
      this.fail(`invalid character ${this.show()} in numeric literal`);
    }
    if (i < n && b[i] === 0x2e) {
      integer = false;
      i++;
      if (i >= n || b[i]! < 0x30 || b[i]! > 0x39) {
        this.pos = i;
        this.fail(i >= n ? 'unexpected end of JSON input' : `invalid character ${this.show()} after decimal point in numeric literal`);
      }
      while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
    }
    if (i < n && (b[i] === 0x65 || b[i] === 0x45)) {
      integer = false;
      i++;
      if (i < n && (b[i] === 0x2b || b[i] === 0x2d)) i++;
      if (i >= n || b[i]! < 0x30 || b[i]! > 0x39) {
        this.pos = i;
        this.fail(i >= n ? 'unexpected end of JSON input' : `invalid character ${this.show()} in exponent of numeric literal`);
      }
      while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
    }
    this.pos = i;
    return integer;
  }

  /** The string literal at pos (a '"'), unquoted like Go. */
  string(): string {
    const b = this.b;
    const n = this.n;
    const start = this.pos + 1;
    let i = start;
    while (i < n) {
      const c = b[i]!;
      if (c === 0x22) {
        this.pos = i + 1;
        return b.toString('latin1', start, i);
      }
      if (c < 0x20 || c === 0x5c || c >= 0x80) break;
      i++;
    }
    return this.stringSlow(start, i);
  }

  private stringSlow(start: number, from: number): string {
    const b = this.b;
    const n = this.n;
    let out = b.toString('latin1', start, from);
    let run = from; // start of bytes copied as they are (ASCII and valid UTF-8)
    let i = from;
    for (;;) {
      if (i >= n) {
        this.pos = i;
        this.fail('unexpected end of JSON input');
      }
      const c = b[i]!;
      if (c === 0x22) {
        out += b.toString('utf8', run, i);
        this.pos = i + 1;
        return out;
      }
      if (c < 0x20) {
        this.pos = i;
        this.fail(`invalid character ${this.show()} in string literal`);
      }
      if (c < 0x80 && c !== 0x5c) {
        i++;
        continue;
      }
      if (c >= 0x80) {
        const r = decodeRune(b, i, n);
        if (r >= 0) {
          i += runeWidth(r);
          continue;
        }
        out += b.toString('utf8', run, i) + '\ufffd';
        run = ++i;
        continue;
      }
      // A backslash escape.
      out += b.toString('utf8', run, i);
      if (i + 1 >= n) {
        this.pos = i + 1;
        this.fail('unexpected end of JSON input');
      }
      const e = b[i + 1]!;
      i += 2;
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const r = this.hex4(i);
          i += 4;
          if (r < 0xd800 || r > 0xdfff) {
            out += String.fromCharCode(r);
            break;
          }
          // A surrogate: only a high one followed by an escaped low one makes
          // a pair; otherwise U+FFFD, and a following escape is read anew.
          if (r <= 0xdbff && i + 1 < n && b[i] === 0x5c && b[i + 1] === 0x75) {
            const r2 = this.hex4(i + 2);
            if (r2 >= 0xdc00 && r2 <= 0xdfff) {
              out += String.fromCharCode(r, r2);
              i += 6;
              break;
            }
          }
          out += '\ufffd';
          break;
        }
        default:
          this.pos = i - 1;
          this.fail(`invalid character ${this.show()} in string escape code`);
      }
      run = i;
    }
  }

  /** Four hex digits at b[i..i+4). */
  private hex4(i: number): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      if (i + k >= this.n) {
        this.pos = i + k;
        this.fail('unexpected end of JSON input');
      }
      const c = this.b[i + k]!;
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else {
        this.pos = i + k;
        this.fail(`invalid character ${this.show()} in \\u hexadecimal character escape`);
      }
      v = (v << 4) | d;
    }
    return v;
  }

  /**
   * Check and skip the value at pos (after whitespace), without recursion;
   * `depth` is the number of containers already open around it.
   */
  skipValue(depth: number): void {
    const stack: number[] = []; // 1 = object, 0 = array
    for (;;) {
      // A value is due.
      this.ws();
      const c = this.peek();
      let closed = true;
      if (c === 0x7b || c === 0x5b) {
        if (depth + stack.length + 1 > MAX_DEPTH) this.fail('exceeded max depth');
        this.pos++;
        this.ws();
        const d = this.peek();
        if (d === (c === 0x7b ? 0x7d : 0x5d)) {
          this.pos++;
        } else {
          stack.push(c === 0x7b ? 1 : 0);
          if (c === 0x7b) this.key();
          closed = false;
        }
      } else if (c === 0x22) {
        this.string();
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        this.number();
      } else if (c === 0x74) {
        this.literal('true');
      } else if (c === 0x66) {
        this.literal('false');
      } else if (c === 0x6e) {
        this.literal('null');
      } else {
        this.fail(`invalid character ${this.show()} looking for beginning of value`);
      }
      if (!closed) continue;
      // After a value: close containers or move to the next element.
      for (;;) {
        if (stack.length === 0) return;
        this.ws();
        const d = this.peek();
        const inObject = stack[stack.length - 1] === 1;
        if (d === 0x2c) {
          this.pos++;
          if (inObject) this.key();
          break;
        }
        if (d === (inObject ? 0x7d : 0x5d)) {
          this.pos++;
          stack.pop();
          continue;
        }
        this.fail(`invalid character ${this.show()} after ${inObject ? 'object key:value pair' : 'array element'}`);
      }
    }
  }

  /** An object key and its colon. */
  private key(): void {
    this.ws();
    if (this.peek() !== 0x22) this.fail(`invalid character ${this.show()} looking for beginning of object key string`);
    this.string();
    this.expect(0x3a, 'after object key');
  }
}
