/**
 * Go struct types for the Go-JSON reader (gojson-read.ts): fields with
 * their JSON names and Go types, matched to object keys the way
 * encoding/json matches them.
 */
import { GoJsonError } from './gojson-error.js';

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

export interface ResolvedField {
  name: string;
  prop: string;
  kind: number;
  schema: Schema | undefined;
}

export const K_STRING = 0;
export const K_INT64 = 1;
export const K_UINT64 = 2;
export const K_BOOL = 3;
export const K_MAP_STRING = 4;
export const K_INT64_ARRAY = 5;
export const K_UINT64_ARRAY = 6;
export const K_STRUCT = 7;
export const K_STRUCT_ARRAY = 8;

/** A decoded struct. */
export type Obj = Record<string, unknown>;

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
