/**
 * Go `encoding/json` writing, byte for byte (SPEC §6): `json.MarshalIndent(v,
 * "", "  ")` for sidecars and `_bucket.json`, `json.Encoder` lines for
 * KEYMAP.jsonl, records.jsonl and _skipped.jsonl. The values to write are
 * described by GoJson below. Pure: strings in, strings out.
 */
import { isUtf8 } from 'node:buffer';
import { GoJsonError } from './gojson-error.js';
import { decodeRune, runeWidth } from './utf8.js';

/**
 * A value to write.
 * - `string`: a Go string given as UTF-16; a lone surrogate is written as
 *   the six characters `\ufffd` (as Go writes an invalid UTF-8 byte).
 * - `Buffer` (any Uint8Array): a Go string given as raw bytes, maybe
 *   invalid UTF-8 (bucket names, object keys): valid sequences are written
 *   raw, each byte of invalid UTF-8 as `\ufffd`. (Not base64 like Go's
 *   []byte: it stands for a Go `string`.)
 * - `number`: an integer (anything else throws); `bigint`: any integer.
 * - array: a Go slice (an empty one prints `[]`; use `null` for a nil one).
 * - {@link GoStruct}: a plain object, keys written in insertion order, like
 *   Go struct fields; a property whose value is `undefined` is left out
 *   (that is how `omitempty` is expressed).
 * - {@link GoMap}: keys written sorted bytewise by their UTF-8 bytes.
 */
export type GoJson = string | Uint8Array | number | bigint | boolean | null | GoJson[] | GoStruct | GoMap;

/**
 * A Go struct: a plain object written in insertion order. Note that JS
 * objects iterate integer-like keys ("1", "42") first, whatever the
 * insertion order; Go field names are never written like that here.
 * Declare record shapes with `type X = {...}` (not `interface`) so they are
 * assignable to this index signature.
 */
export type GoStruct = { [field: string]: GoJson | undefined };

/** A Go `map[string]T`: keys are written sorted by their UTF-8 bytes. */
export class GoMap {
  readonly entries: Map<string, GoJson>;
  constructor(entries: Iterable<readonly [string, GoJson]> = []) {
    this.entries = new Map(entries);
  }
  get size(): number {
    return this.entries.size;
  }
}

/** How Go-compatible JSON is written (HTML escaping on, as Go's default, unless turned off). */
export interface EncodeOptions {
  /** Escape `<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026` (Go's default: true). */
  escapeHtml?: boolean;
}

/**
 * `json.MarshalIndent(v, "", "  ")`: two-space indent, `"key": value`, empty
 * arrays and objects as `[]` / `{}`, no trailing newline. `escapeHtml`
 * defaults to true, as in Go. (For MANIFEST.json, which Go writes with an
 * indenting Encoder with HTML escaping off, use
 * `marshalIndent(v, { escapeHtml: false }) + '\n'`: the bytes are the same.)
 */
export function marshalIndent(v: GoJson, opts?: EncodeOptions): string {
  return encodeValue(v, opts?.escapeHtml ?? true, '\n');
}

/** `json.Marshal(v)`: compact, no trailing newline. */
export function marshal(v: GoJson, opts?: EncodeOptions): string {
  return encodeValue(v, opts?.escapeHtml ?? true, null);
}

/**
 * One `json.NewEncoder(w).Encode(v)` line: compact JSON followed by `\n`.
 * `escapeHtml` defaults to true like Go's Encoder; the JSONL files of the
 * dump (SPEC §6) are written with `{ escapeHtml: false }`.
 */
export function encodeLine(v: GoJson, opts?: EncodeOptions): string {
  return encodeValue(v, opts?.escapeHtml ?? true, null) + '\n';
}

const INDENT = '  ';

/**
 * `nl` is null for compact output, else the newline plus the indentation of
 * the line the current value starts on ("\n", "\n  ", …).
 */
function encodeValue(v: GoJson, html: boolean, nl: string | null): string {
  switch (typeof v) {
    case 'string':
      return quoteString(v, html);
    case 'number':
      return encodeNumber(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw new GoJsonError(`cannot encode a value of type ${typeof v}`);
  }
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return quoteBytes(v, html);
  const inner = nl === null ? null : nl + INDENT;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      if (inner !== null) out += inner;
      out += encodeValue(v[i]!, html, inner);
    }
    return out + (nl === null ? ']' : nl + ']');
  }
  const colon = nl === null ? ':' : ': ';
  let out = '{';
  let first = true;
  if (v instanceof GoMap) {
    for (const [k, val] of sortedEntries(v)) {
      out += first ? '' : ',';
      first = false;
      if (inner !== null) out += inner;
      out += quoteString(k, html) + colon + encodeValue(val, html, inner);
    }
  } else {
    if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
      throw new GoJsonError(`cannot encode an object of class ${(v as object).constructor?.name ?? '?'}`);
    }
    for (const k in v) {
      const val = v[k];
      if (val === undefined) continue;
      out += first ? '' : ',';
      first = false;
      if (inner !== null) out += inner;
      out += quoteString(k, html) + colon + encodeValue(val, html, inner);
    }
  }
  if (first) return '{}';
  return out + (nl === null ? '}' : nl + '}');
}

function encodeNumber(n: number): string {
  if (!Number.isInteger(n)) {
    throw new GoJsonError(`cannot encode non-integer number ${n}`);
  }
  // String() is plain decimal below 1e21 (and prints -0 as "0").
  return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
}

/** Map entries sorted by the UTF-8 bytes of their keys, like Go. */
function sortedEntries(m: GoMap): Array<[string, GoJson]> {
  const list = [...m.entries];
  if (list.length < 2) return list;
  // For well-formed strings, UTF-8 byte order is code point order; JS's
  // default comparison is UTF-16 code unit order, which differs only when
  // a supplementary character meets U+E000–U+FFFF, so compare the bytes.
  const keyed = list.map((e) => ({ e, b: Buffer.from(e[0], 'utf8') }));
  keyed.sort((x, y) => Buffer.compare(x.b, y.b));
  return keyed.map((x) => x.e);
}

// Bytes < 0x80 that are written as themselves.
const SAFE = new Uint8Array(128);
const HTML_SAFE = new Uint8Array(128);
for (let c = 0x20; c < 0x80; c++) {
  if (c === 0x22 || c === 0x5c) continue;
  SAFE[c] = 1;
  if (c !== 0x3c && c !== 0x3e && c !== 0x26) HTML_SAFE[c] = 1;
}
// Strings made only of such characters need no escaping (DEL 0x7f is raw).
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7f]*$/;
const PLAIN_HTML = /^[\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7f]*$/;
const HEX = '0123456789abcdef';

/** The escape for an ASCII byte that is not written as itself. */
function escapeAscii(b: number): string {
  switch (b) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    default:
      return '\\u00' + HEX[b >> 4]! + HEX[b & 0xf]!;
  }
}

/** A JS string as a Go JSON string literal (see {@link GoJson}). */
export function quoteString(s: string, html = true): string {
  if ((html ? PLAIN_HTML : PLAIN).test(s)) return '"' + s + '"';
  const safe = html ? HTML_SAFE : SAFE;
  let out = '"';
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (safe[c] === 1) continue;
      out += s.slice(start, i) + escapeAscii(c);
      start = i + 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++; // a valid pair, written raw
          continue;
        }
      }
      out += s.slice(start, i) + '\\ufffd';
      start = i + 1;
    } else if (c === 0x2028 || c === 0x2029) {
      out += s.slice(start, i) + (c === 0x2028 ? '\\u2028' : '\\u2029');
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** Raw string bytes as a Go JSON string literal (see {@link GoJson}). */
export function quoteBytes(b: Uint8Array, html = true): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (isUtf8(buf)) return quoteString(buf.toString('utf8'), html);
  const safe = html ? HTML_SAFE : SAFE;
  let out = '"';
  let start = 0; // start of a run of bytes written as they are (valid UTF-8)
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const c = buf[i]!;
    if (c < 0x80) {
      if (safe[c] === 1) {
        i++;
        continue;
      }
      out += buf.toString('utf8', start, i) + escapeAscii(c);
      start = ++i;
      continue;
    }
    const r = decodeRune(buf, i, n);
    if (r < 0) {
      out += buf.toString('utf8', start, i) + '\\ufffd';
      start = ++i;
    } else if (r === 0x2028 || r === 0x2029) {
      out += buf.toString('utf8', start, i) + (r === 0x2028 ? '\\u2028' : '\\u2029');
      start = i += runeWidth(r);
    } else {
      i += runeWidth(r);
    }
  }
  return out + buf.toString('utf8', start, n) + '"';
}

