/**
 * Go `encoding/json`, byte for byte, for the two things the dump needs
 * (SPEC §5.1, §5.2, §6):
 *
 * - writing: `json.MarshalIndent(v, "", "  ")` (sidecars, `_bucket.json`)
 *   and `json.Encoder` lines (KEYMAP.jsonl, records.jsonl, _skipped.jsonl);
 * - reading: `json.Unmarshal` into a Go struct (bucket meta, manifests).
 *
 * Pure functions over strings and Buffers: no streams, no fs.
 */
import { isUtf8 } from 'node:buffer';

/** A JSON value that cannot be written, invalid JSON, or a Go type error. */
export class GoJsonError extends Error {
  override name = 'GoJsonError';
}

// ---------------------------------------------------------------------------
// Value model
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

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
      start = i += runeWidth;
    } else {
      i += runeWidth;
    }
  }
  return out + buf.toString('utf8', start, n) + '"';
}

let runeWidth = 0;

/**
 * Go's `utf8.DecodeRune` at `b[i]` (a byte ≥ 0x80): the code point with its
 * width in `runeWidth`, or -1 for an invalid or truncated sequence, which Go
 * reads as U+FFFD of width 1 — one replacement per invalid byte. Surrogates
 * (ED A0..BF xx), overlong forms and values above U+10FFFF are invalid.
 */
function decodeRune(b: Uint8Array, i: number, n: number): number {
  const c0 = b[i]!;
  if (c0 < 0xc2 || c0 > 0xf4) return -1;
  if (c0 < 0xe0) {
    if (i + 1 >= n) return -1;
    const c1 = b[i + 1]!;
    if (c1 < 0x80 || c1 > 0xbf) return -1;
    runeWidth = 2;
    return ((c0 & 0x1f) << 6) | (c1 & 0x3f);
  }
  let lo = 0x80;
  let hi = 0xbf;
  if (c0 === 0xe0) lo = 0xa0;
  else if (c0 === 0xed) hi = 0x9f;
  else if (c0 === 0xf0) lo = 0x90;
  else if (c0 === 0xf4) hi = 0x8f;
  if (i + 1 >= n) return -1;
  const c1 = b[i + 1]!;
  if (c1 < lo || c1 > hi) return -1;
  if (i + 2 >= n) return -1;
  const c2 = b[i + 2]!;
  if (c2 < 0x80 || c2 > 0xbf) return -1;
  if (c0 < 0xf0) {
    runeWidth = 3;
    return ((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
  }
  if (i + 3 >= n) return -1;
  const c3 = b[i + 3]!;
  if (c3 < 0x80 || c3 > 0xbf) return -1;
  runeWidth = 4;
  return ((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f);
}

// ---------------------------------------------------------------------------
// Reader: json.Unmarshal into a struct
// ---------------------------------------------------------------------------

/**
 * The Go type of a struct field:
 * - 'string', 'bool';
 * - 'int64', 'uint64' (decoded as bigint);
 * - 'map-string' (`map[string]string`, decoded as `Map<string, string>`);
 * - 'int64-array', 'uint64-array' (`[]int64`, `[]uint64`, as `bigint[]`);
 * - `{ struct: Schema }` (a nested struct);
 * - `{ array: Schema }` (a slice of structs).
 */
export type FieldType =
  | 'string'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'map-string'
  | 'int64-array'
  | 'uint64-array'
  | { struct: Schema }
  | { array: Schema };

export interface Field {
  /** The JSON name (the Go `json:"…"` tag); ASCII. */
  name: string;
  /** The property of the decoded object; defaults to `name`. */
  prop?: string;
  type: FieldType;
}

interface ResolvedField {
  name: string;
  prop: string;
  kind: number;
  schema: Schema | undefined;
}

const K_STRING = 0;
const K_INT64 = 1;
const K_UINT64 = 2;
const K_BOOL = 3;
const K_MAP_STRING = 4;
const K_INT64_ARRAY = 5;
const K_UINT64_ARRAY = 6;
const K_STRUCT = 7;
const K_STRUCT_ARRAY = 8;

type Obj = Record<string, unknown>;

/**
 * A Go struct type for {@link decodeStruct}: its fields in declaration
 * order. Field names are matched like Go: exactly first, else
 * case-insensitively (Go folds with simple Unicode case folding, so
 * `ſ` U+017F matches `s` and the Kelvin sign U+212A matches `k`); among
 * fields that fold alike the first declared one wins.
 */
export class Schema {
  readonly fields: readonly ResolvedField[];
  private readonly exact = new Map<string, ResolvedField>();
  private readonly folded = new Map<string, ResolvedField>();

  constructor(fields: readonly Field[]) {
    this.fields = fields.map((f) => {
      if (!/^[\x20-\x7e]+$/.test(f.name)) {
        throw new GoJsonError(`schema field name ${JSON.stringify(f.name)} must be printable ASCII`);
      }
      const t = f.type;
      let kind: number;
      let schema: Schema | undefined;
      if (typeof t === 'object') {
        if ('array' in t) {
          kind = K_STRUCT_ARRAY;
          schema = t.array;
        } else {
          kind = K_STRUCT;
          schema = t.struct;
        }
      } else {
        kind = {
          string: K_STRING,
          int64: K_INT64,
          uint64: K_UINT64,
          bool: K_BOOL,
          'map-string': K_MAP_STRING,
          'int64-array': K_INT64_ARRAY,
          'uint64-array': K_UINT64_ARRAY,
        }[t];
      }
      return { name: f.name, prop: f.prop ?? f.name, kind, schema };
    });
    for (const f of this.fields) {
      if (!this.exact.has(f.name)) this.exact.set(f.name, f);
      const k = foldName(f.name);
      if (!this.folded.has(k)) this.folded.set(k, f);
    }
  }

  /** The field a JSON object key selects, if any. */
  lookup(key: string): ResolvedField | undefined {
    return this.exact.get(key) ?? this.folded.get(foldName(key));
  }

  /** A struct with every field at its Go zero value. */
  create(): Obj {
    const o: Obj = {};
    for (const f of this.fields) o[f.prop] = zeroValue(f);
    return o;
  }
}

function zeroValue(f: ResolvedField): unknown {
  switch (f.kind) {
    case K_STRING:
      return '';
    case K_INT64:
    case K_UINT64:
      return 0n;
    case K_BOOL:
      return false;
    case K_MAP_STRING:
      return new Map<string, string>();
    case K_STRUCT:
      return f.schema!.create();
    default:
      return [];
  }
}

/**
 * Go's `foldName` restricted to what can match an ASCII field name: ASCII
 * letters upper-cased, U+017F (ſ) → S, U+212A (Kelvin) → K. Any other
 * non-ASCII character folds to a non-ASCII one in Go, so it is kept and can
 * never match.
 */
function foldName(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) out += String.fromCharCode(c - 0x20);
    else if (c === 0x17f) out += 'S';
    else if (c === 0x212a) out += 'K';
    else out += s[i];
  }
  return out;
}

/** Go's encoding/json scanner nesting limit. */
const MAX_DEPTH = 10_000;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * `json.Unmarshal(bytes, &v)` for a struct `v` described by `schema`,
 * starting from its zero value. Follows Go: unknown fields are ignored;
 * names match exactly, else case-insensitively; `null` leaves a string,
 * number, bool or struct as it is and makes a map or slice empty (a
 * top-level `null` gives all defaults); a value of the wrong JSON type is an
 * error; integers must be integer literals in range (`1.0`, `1e3`, `-1` or
 * `-0` into a uint64, and overflow are errors); a `null` map value is
 * stored as ""; a repeated key decodes again into the same field (strings
 * and numbers: the later wins; maps: merged; slices: the later wins, its
 * elements decoded into the earlier ones by index, as Go reuses the
 * slice and its backing array); invalid UTF-8 in a string becomes one
 * U+FFFD per byte and a `\u` escape of a lone surrogate one U+FFFD; raw
 * control characters in strings, trailing non-whitespace and nesting
 * deeper than 10000 are errors. Integers are returned as bigint.
 *
 * @throws GoJsonError for invalid JSON or a type error
 */
export function decodeStruct<T>(bytes: Uint8Array, schema: Schema): T {
  const p = new Parser(bytes);
  const out = schema.create();
  p.ws();
  const c = p.peek();
  if (c === 0x7b /* { */) {
    p.object(out, schema, 1);
  } else if (c === 0x6e /* n */) {
    p.literal('null');
  } else {
    p.typeError(c, 'struct');
  }
  p.ws();
  if (p.pos < p.n) p.fail(`invalid character ${p.show()} after top-level value`);
  return out as T;
}

class Parser {
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

  /** A value of the wrong JSON type for a Go field: check it parses, then fail. */
  typeError(c: number, goType: string, field?: string, depth = 0): never {
    const start = this.pos;
    this.skipValue(depth);
    const what =
      c === 0x22 ? 'string' : c === 0x7b ? 'object' : c === 0x5b ? 'array' : c === 0x74 || c === 0x66 ? 'bool' : 'number';
    this.pos = start;
    this.fail(`cannot unmarshal ${what} into Go ${field === undefined ? 'value' : `struct field ${field}`} of type ${goType}`);
  }

  /** Decode the object at pos (a '{') into `target`; `depth` counts it. */
  object(target: Obj, schema: Schema, depth: number): void {
    if (depth > MAX_DEPTH) this.fail('exceeded max depth');
    this.pos++;
    this.ws();
    if (this.peek() === 0x7d /* } */) {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.peek() !== 0x22) this.fail(`invalid character ${this.show()} looking for beginning of object key string`);
      const key = this.string();
      this.expect(0x3a /* : */, 'after object key');
      this.ws();
      const f = schema.lookup(key);
      if (f === undefined) this.skipValue(depth);
      else this.field(target, f, depth);
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c === 0x2c /* , */) continue;
      if (c === 0x7d /* } */) return;
      this.pos--;
      this.fail(`invalid character ${this.show()} after object key:value pair`);
    }
  }

  field(target: Obj, f: ResolvedField, depth: number): void {
    const c = this.peek();
    if (c === 0x6e /* n */) {
      this.literal('null');
      // null zeroes maps and slices; other kinds keep their value.
      if (f.kind === K_MAP_STRING) target[f.prop] = new Map<string, string>();
      else if (f.kind >= K_INT64_ARRAY && f.kind !== K_STRUCT) target[f.prop] = [];
      return;
    }
    switch (f.kind) {
      case K_STRING:
        if (c !== 0x22) this.typeError(c, 'string', f.name, depth);
        target[f.prop] = this.string();
        return;
      case K_INT64:
      case K_UINT64:
        if (c !== 0x2d && (c < 0x30 || c > 0x39)) this.typeError(c, f.kind === K_INT64 ? 'int64' : 'uint64', f.name, depth);
        target[f.prop] = this.integer(f.kind === K_UINT64, f.name);
        return;
      case K_BOOL:
        if (c === 0x74) {
          this.literal('true');
          target[f.prop] = true;
        } else if (c === 0x66) {
          this.literal('false');
          target[f.prop] = false;
        } else {
          this.typeError(c, 'bool', f.name, depth);
        }
        return;
      case K_MAP_STRING:
        if (c !== 0x7b) this.typeError(c, 'map[string]string', f.name, depth);
        this.mapString(target[f.prop] as Map<string, string>, f.name, depth + 1);
        return;
      case K_INT64_ARRAY:
      case K_UINT64_ARRAY:
        if (c !== 0x5b) this.typeError(c, f.kind === K_INT64_ARRAY ? '[]int64' : '[]uint64', f.name, depth);
        target[f.prop] = this.intArray(target[f.prop] as bigint[], f.kind === K_UINT64_ARRAY, f.name, depth + 1);
        return;
      case K_STRUCT:
        if (c !== 0x7b) this.typeError(c, 'struct', f.name, depth);
        this.object(target[f.prop] as Obj, f.schema!, depth + 1);
        return;
      default:
        if (c !== 0x5b) this.typeError(c, '[]struct', f.name, depth);
        target[f.prop] = this.structArray(target[f.prop] as Obj[], f.schema!, f.name, depth + 1);
    }
  }

  mapString(m: Map<string, string>, name: string, depth: number): void {
    if (depth > MAX_DEPTH) this.fail('exceeded max depth');
    this.pos++;
    this.ws();
    if (this.peek() === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.peek() !== 0x22) this.fail(`invalid character ${this.show()} looking for beginning of object key string`);
      const key = this.string();
      this.expect(0x3a, 'after object key');
      this.ws();
      const c = this.peek();
      if (c === 0x22) m.set(key, this.string());
      else if (c === 0x6e) {
        this.literal('null');
        m.set(key, '');
      } else this.typeError(c, 'string', `${name}.${key}`, depth);
      this.ws();
      const d = this.peek();
      this.pos++;
      if (d === 0x2c) continue;
      if (d === 0x7d) return;
      this.pos--;
      this.fail(`invalid character ${this.show()} after object key:value pair`);
    }
  }

  /**
   * A JSON array into a Go slice that already holds `old`: element i is
   * decoded into old[i] when it exists (so `null` keeps it), the slice is
   * cut to the new length, and an empty array gives a fresh empty slice.
   * `element` decodes the element at pos (first byte c) into arr[i].
   */
  private array<E>(old: E[], depth: number, element: (arr: E[], i: number, c: number) => void): E[] {
    if (depth > MAX_DEPTH) this.fail('exceeded max depth');
    this.pos++;
    this.ws();
    if (this.peek() === 0x5d) {
      this.pos++;
      return [];
    }
    const arr = this.backing(old);
    let i = 0;
    for (;;) {
      this.ws();
      element(arr, i, this.peek());
      i++;
      this.ws();
      const d = this.peek();
      this.pos++;
      if (d === 0x2c) continue;
      if (d === 0x5d) break;
      this.pos--;
      this.fail(`invalid character ${this.show()} after array element`);
    }
    return this.cut(arr, i);
  }

  intArray(old: bigint[], unsigned: boolean, name: string, depth: number): bigint[] {
    return this.array(old, depth, (arr, i, c) => {
      if (c === 0x6e) {
        this.literal('null');
        if (i >= arr.length) arr[i] = 0n;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        arr[i] = this.integer(unsigned, name);
      } else {
        this.typeError(c, unsigned ? 'uint64' : 'int64', name, depth);
      }
    });
  }

  structArray(old: Obj[], schema: Schema, name: string, depth: number): Obj[] {
    return this.array(old, depth, (arr, i, c) => {
      if (i >= arr.length) arr[i] = schema.create();
      if (c === 0x7b) this.object(arr[i]!, schema, depth + 1);
      else if (c === 0x6e) this.literal('null');
      else this.typeError(c, 'struct', name, depth);
    });
  }

  /**
   * Go decodes a repeated array key into the same slice, and its backing
   * array keeps elements past the length it cuts the slice to; they
   * resurface (and take `null` elements' place) when a later array is
   * longer. The backing array's capacity never drops below the highest
   * index decoded into it (Go only reallocates when length = capacity), so
   * keeping every element ever decoded reproduces it exactly.
   */
  private stale: Map<unknown[], unknown[]> | undefined;

  private backing<E>(old: E[]): E[] {
    return (this.stale?.get(old) as E[] | undefined) ?? old;
  }

  private cut<E>(backing: E[], len: number): E[] {
    if (backing.length === len) return backing;
    const slice = backing.slice(0, len);
    (this.stale ??= new Map()).set(slice, backing);
    return slice;
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

  /** A JSON number at pos into an int64 / uint64 (strconv.ParseInt/ParseUint rules). */
  integer(unsigned: boolean, name: string): bigint {
    const start = this.pos;
    const isInt = this.number();
    const end = this.pos;
    const b = this.b;
    if (isInt && end - start <= 15 && b[start] !== 0x2d) {
      // Common case: a small non-negative integer, exact in a double.
      let x = 0;
      for (let i = start; i < end; i++) x = x * 10 + (b[i]! - 0x30);
      return BigInt(x);
    }
    const text = b.toString('latin1', start, end);
    let v: bigint | undefined;
    // 21 characters hold any in-range literal ("-9223372036854775808").
    if (isInt && text.length <= 21 && !(unsigned && text.charCodeAt(0) === 0x2d)) {
      v = BigInt(text);
      if (unsigned ? v > UINT64_MAX : v < INT64_MIN || v > INT64_MAX) v = undefined;
    }
    if (v === undefined) {
      this.pos = start;
      this.fail(`cannot unmarshal number ${text} into Go struct field ${name} of type ${unsigned ? 'uint64' : 'int64'}`);
    }
    return v;
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
          i += runeWidth;
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

// ---------------------------------------------------------------------------
// elastickv records (SPEC §5.1, §5.2)
// ---------------------------------------------------------------------------

/**
 * `!s3|bucket|meta|` value: Go `s3BucketMeta` (adapter/s3.go) /
 * `s3LiveBucketMeta` (internal/backup/s3.go).
 */
export type BucketMeta = {
  bucketName: string;
  /** uint64 */
  generation: bigint;
  /** uint64 */
  createdAtHlc: bigint;
  owner: string;
  region: string;
  acl: string;
};

/** One `parts[]` entry: Go `s3ObjectPart` / `s3LivePart`. */
export type ManifestPart = {
  /** uint64 */
  partNo: bigint;
  etag: string;
  /** int64 */
  sizeBytes: bigint;
  /** uint64 */
  chunkCount: bigint;
  /** []uint64 */
  chunkSizes: bigint[];
  /** uint64 */
  partVersion: bigint;
  /** uint64 (the part's start timestamp; versions its chunkrefs) */
  chunkRefVersion: bigint;
  offloaded: boolean;
};

/** `!s3|obj|head|` value: Go `s3ObjectManifest` / `s3LiveManifest`. */
export type ObjectManifest = {
  uploadId: string;
  etag: string;
  /** int64 */
  sizeBytes: bigint;
  /** uint64 */
  lastModifiedHlc: bigint;
  contentType: string;
  contentEncoding: string;
  cacheControl: string;
  contentDisposition: string;
  /** map[string]string */
  userMetadata: Map<string, string>;
  parts: ManifestPart[];
};

export const BUCKET_META_SCHEMA = new Schema([
  { name: 'bucket_name', prop: 'bucketName', type: 'string' },
  { name: 'generation', type: 'uint64' },
  { name: 'created_at_hlc', prop: 'createdAtHlc', type: 'uint64' },
  { name: 'owner', type: 'string' },
  { name: 'region', type: 'string' },
  { name: 'acl', type: 'string' },
]);

export const MANIFEST_PART_SCHEMA = new Schema([
  { name: 'part_no', prop: 'partNo', type: 'uint64' },
  { name: 'etag', type: 'string' },
  { name: 'size_bytes', prop: 'sizeBytes', type: 'int64' },
  { name: 'chunk_count', prop: 'chunkCount', type: 'uint64' },
  { name: 'chunk_sizes', prop: 'chunkSizes', type: 'uint64-array' },
  { name: 'part_version', prop: 'partVersion', type: 'uint64' },
  { name: 'chunk_ref_version', prop: 'chunkRefVersion', type: 'uint64' },
  { name: 'offloaded', type: 'bool' },
]);

export const MANIFEST_SCHEMA = new Schema([
  { name: 'upload_id', prop: 'uploadId', type: 'string' },
  { name: 'etag', type: 'string' },
  { name: 'size_bytes', prop: 'sizeBytes', type: 'int64' },
  { name: 'last_modified_hlc', prop: 'lastModifiedHlc', type: 'uint64' },
  { name: 'content_type', prop: 'contentType', type: 'string' },
  { name: 'content_encoding', prop: 'contentEncoding', type: 'string' },
  { name: 'cache_control', prop: 'cacheControl', type: 'string' },
  { name: 'content_disposition', prop: 'contentDisposition', type: 'string' },
  { name: 'user_metadata', prop: 'userMetadata', type: 'map-string' },
  { name: 'parts', type: { array: MANIFEST_PART_SCHEMA } },
]);

/** Decode a bucket meta value. @throws GoJsonError */
export function parseBucketMeta(bytes: Uint8Array): BucketMeta {
  return decodeStruct<BucketMeta>(bytes, BUCKET_META_SCHEMA);
}

/** Decode an object manifest value. @throws GoJsonError */
export function parseManifest(bytes: Uint8Array): ObjectManifest {
  return decodeStruct<ObjectManifest>(bytes, MANIFEST_SCHEMA);
}
