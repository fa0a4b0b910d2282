/**
 * A compact, exact encoding for the manifest JSON values the collector keeps
 * until the sink writes their objects (there is one per object, and they
 * are most of what is kept per object).
 *
 * elastickv writes manifests with Go's encoding/json, so every one repeats
 * the same field names (`{"upload_id":"`, `","etag":"`, …) and usually the
 * same content type. Valid JSON never holds the bytes 0x01–0x08, 0x0B,
 * 0x0C and 0x0E–0x1F (control characters must be escaped inside strings and
 * are not whitespace outside them), so each of those bytes here stands for
 * one of those strings, cutting a typical single-part manifest from ~290
 * bytes to ~125. A value that holds any of those bytes, or 0x00 (invalid
 * JSON: it fails to parse later, with its exact bytes), is kept as it is
 * behind a leading 0x00. decode(encode(x)) equals x for every byte string.
 */

/** The strings a code byte stands for, longest first where one starts another. */
const TOKENS: readonly string[] = [
  '","parts":[{"part_no":',
  ',"parts":[{"part_no":',
  ',"last_modified_hlc":',
  '","content_disposition":"',
  '","content_encoding":"',
  ',"content_encoding":"',
  '","cache_control":"',
  ',"cache_control":"',
  '","user_metadata":{"',
  ',"user_metadata":{"',
  ',"content_type":"',
  ',"chunk_ref_version":',
  ',"chunk_sizes":[',
  '],"part_version":',
  ',"part_version":',
  ',"chunk_count":',
  '","size_bytes":',
  ',"size_bytes":',
  ',"offloaded":true',
  '{"upload_id":"',
  '},{"part_no":',
  '","etag":"',
  ',"etag":"',
  'application/octet-stream',
  ']}]}',
];

/** Code bytes in order: 0x01–0x08, 0x0B, 0x0C, 0x0E–0x1F. */
const CODES: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, ...Array.from({ length: 18 }, (_, i) => 14 + i)];

const TOKEN_BYTES: readonly Buffer[] = TOKENS.map((t) => Buffer.from(t, 'latin1'));
/** Each token's first four bytes as one number (every token has at least four): most candidates fail on it. */
const TOKEN_HEADS: readonly number[] = TOKEN_BYTES.map((t) => head4(t, 0));
/** By code byte: the token it stands for. */
const EXPANSION: Array<Buffer | undefined> = new Array<Buffer | undefined>(32).fill(undefined);
/** By first byte: [token index, …], longest first. */
const STARTING: Array<number[] | undefined> = new Array<number[] | undefined>(256).fill(undefined);
/** Whether a byte forces the raw form (a code byte or 0x00). */
const RESERVED = new Uint8Array(256);

RESERVED[0] = 1;
for (const code of CODES) RESERVED[code] = 1;
TOKEN_BYTES.forEach((t, i) => {
  EXPANSION[CODES[i]!] = t;
  (STARTING[t[0]!] ??= []).push(i);
});
for (const list of STARTING) list?.sort((a, b) => TOKEN_BYTES[b]!.length - TOKEN_BYTES[a]!.length);
if (TOKENS.length > CODES.length) throw new Error('manifest-codec: more tokens than codes');
if (TOKEN_BYTES.some((t) => t.length < 4)) throw new Error('manifest-codec: a token shorter than four bytes');

let scratch = Buffer.allocUnsafeSlow(4096);

/**
 * The encoding of value, as a view of a scratch buffer that the next call
 * overwrites (copy it out before calling again).
 */
export function encodeManifest(value: Uint8Array): Buffer {
  const n = value.length;
  if (scratch.length < n + 1) scratch = Buffer.allocUnsafeSlow(2 * n + 1);
  const out = scratch;
  let o = 0;
  let i = 0;
  // One pass: a reserved byte is never inside a token, so meeting one here means none was skipped.
  while (i < n) {
    const b = value[i]!;
    if (RESERVED[b] === 1) return verbatim(value, out);
    const candidates = STARTING[b];
    if (candidates !== undefined && i + 4 <= n) {
      const head = head4(value, i);
      let matched = -1;
      for (let c = 0; c < candidates.length; c++) {
        const t = candidates[c]!;
        if (TOKEN_HEADS[t] !== head) continue;
        const tok = TOKEN_BYTES[t]!;
        const len = tok.length;
        if (i + len > n) continue;
        let k = 4;
        while (k < len && value[i + k] === tok[k]) k++;
        if (k === len) {
          matched = t;
          break;
        }
      }
      if (matched >= 0) {
        out[o++] = CODES[matched]!;
        i += TOKEN_BYTES[matched]!.length;
        continue;
      }
    }
    out[o++] = b;
    i++;
  }
  return out.subarray(0, o);
}

/** The raw form: 0x00, then the value as it is. */
function verbatim(value: Uint8Array, out: Buffer): Buffer {
  out[0] = 0;
  out.set(value, 1);
  return out.subarray(0, value.length + 1);
}

/** Bytes i … i+3 of b as one unsigned number. */
function head4(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** The bytes encodeManifest() was given, in a new buffer. */
export function decodeManifest(encoded: Uint8Array): Buffer {
  if (encoded.length > 0 && encoded[0] === 0) return Buffer.from(encoded.subarray(1));
  let n = 0;
  for (let i = 0; i < encoded.length; i++) {
    const b = encoded[i]!;
    n += b < 32 ? (EXPANSION[b]?.length ?? 1) : 1;
  }
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  for (let i = 0; i < encoded.length; i++) {
    const b = encoded[i]!;
    const tok = b < 32 ? EXPANSION[b] : undefined;
    if (tok === undefined) {
      out[o++] = b;
    } else {
      tok.copy(out, o);
      o += tok.length;
    }
  }
  return out;
}
