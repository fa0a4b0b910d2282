/**
 * Go `json.Unmarshal` into a struct (bucket meta, manifests: SPEC §5.1,
 * §5.2), with Go's leniencies and quirks reproduced; the struct types are
 * gojson-schema.ts Schemas, the syntax is gojson-scan.ts.
 */
import { JsonScanner, MAX_DEPTH } from './gojson-scan.js';
import {
  K_BOOL,
  K_INT64,
  K_INT64_ARRAY,
  K_MAP_STRING,
  K_STRING,
  K_STRUCT,
  K_UINT64,
  K_UINT64_ARRAY,
  type Obj,
  type ResolvedField,
  type Schema,
} from './gojson-schema.js';
import { MAX_U64 } from './u64.js';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

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
  const p = new StructParser(bytes);
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


/** Decodes into a struct: the typed half of the reader. */
class StructParser extends JsonScanner {
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
    this.members(depth, (key) => {
      const f = schema.lookup(key);
      if (f === undefined) this.skipValue(depth);
      else this.field(target, f, depth);
    });
  }

  /**
   * The members of the object at pos (a '{'; `depth` counts it): after each
   * key and its colon, `member` decodes the value at pos.
   */
  private members(depth: number, member: (key: string) => void): void {
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
      member(key);
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
    this.members(depth, (key) => {
      const c = this.peek();
      if (c === 0x22) m.set(key, this.string());
      else if (c === 0x6e) {
        this.literal('null');
        m.set(key, '');
      } else this.typeError(c, 'string', `${name}.${key}`, depth);
    });
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
      if (unsigned ? v > MAX_U64 : v < INT64_MIN || v > INT64_MAX) v = undefined;
    }
    if (v === undefined) {
      this.pos = start;
      this.fail(`cannot unmarshal number ${text} into Go struct field ${name} of type ${unsigned ? 'uint64' : 'int64'}`);
    }
    return v;
  }
}
