/**
 * A WebAssembly module that runs the MD5 block function (RFC 1321) on 4·K
 * independent streams at once: each 128-bit SIMD register holds one 32-bit
 * word of four streams, and K such sets are interleaved so that one set's
 * dependency chain (MD5 is a chain of 64 dependent steps per block) hides
 * the others'. The module is built here, byte by byte, with no toolchain.
 *
 * Export `blocks(p_0, …, p_{4K-1}, n)`: for every stream i, runs n 64-byte
 * blocks starting at memory offset p_i through that stream's state. The
 * state of set s is at offset 64·s: the A, B, C and D words of its four
 * streams, one 16-byte vector each (stream 4·s + l in 32-bit lane l).
 * Padding and the final digest are the caller's (md5-lanes.ts).
 */

/** Shift amounts of the 64 steps, four per round. */
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
/** T[i] = floor(|sin(i + 1)| · 2^32), RFC 1321 §3.4. */
const T = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

/** The message word step i reads. */
function wordOf(i: number): number {
  if (i < 16) return i;
  if (i < 32) return (5 * i + 1) % 16;
  if (i < 48) return (3 * i + 5) % 16;
  return (7 * i) % 16;
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A vector of byte strings, as the binary format writes vectors. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// Opcodes (WebAssembly core 2.0; SIMD ones behind the 0xfd prefix).
const SIMD = (op: number) => [0xfd, ...uleb(op)];
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const V128_CONST = 0x0c;
const I8X16_SHUFFLE = 0x0d;
const V128_NOT = 0x4d;
const V128_OR = 0x50;
const V128_XOR = 0x51;
const V128_BITSELECT = 0x52;
const I32X4_SHL = 0xab;
const I32X4_SHR_U = 0xad;
const I32X4_ADD = 0xae;

type Code = number[];
const get = (i: number): Code => [0x20, ...uleb(i)];
const set = (i: number, value: Code): Code => [...value, 0x21, ...uleb(i)];
const i32 = (n: number): Code => [0x41, ...sleb(n)];
const simd = (op: number, ...args: Code[]): Code => [...args.flat(), ...SIMD(op)];
const load = (addr: Code, offset: number): Code => [...addr, ...SIMD(V128_LOAD), 4, ...uleb(offset)];
const store = (addr: Code, offset: number, value: Code): Code => [...addr, ...value, ...SIMD(V128_STORE), 4, ...uleb(offset)];
const splat = (word: number): Code => {
  const b = Buffer.alloc(16);
  for (let l = 0; l < 4; l++) b.writeUInt32LE(word, 4 * l);
  return [...SIMD(V128_CONST), ...b];
};
/** i8x16.shuffle picking 32-bit lanes (0–3: a, 4–7: b). */
const shuffle = (lanes: number[], a: Code, b: Code): Code => [...a, ...b, ...SIMD(I8X16_SHUFFLE), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])];
const add = (a: Code, b: Code): Code => simd(I32X4_ADD, a, b);

/** The module's bytes for 4·sets streams. */
export function md5LanesModule(sets: number): Uint8Array {
  const K = sets;
  // Locals: parameters first (4K pointers, n), then v128 locals.
  const ptr = (s: number, q: number) => 4 * s + q;
  const N = 4 * K;
  let next = N + 1;
  const scratch = Array.from({ length: 8 }, () => next++); // v0..v3, t0..t3
  const perSet = Array.from({ length: K }, () => ({
    tmp: next++,
    abcd: [next++, next++, next++, next++],
    saved: [next++, next++, next++, next++],
    m: Array.from({ length: 16 }, () => next++),
  }));
  const v128Locals = next - (N + 1);

  const body: Code = [];
  const emit = (c: Code) => body.push(...c);
  perSet.forEach((p, s) => p.abcd.forEach((x, w) => emit(set(x, load(i32(0), 64 * s + 16 * w)))));
  emit([0x02, 0x40, 0x03, 0x40]); // block, loop
  emit([...get(N), 0x45, 0x0d, 1]); // br_if 1 (out of the block) when n == 0
  const [v0, v1, v2, v3, t0, t1, t2, t3] = scratch as [number, number, number, number, number, number, number, number];
  perSet.forEach((p, s) => {
    // Transpose: m[k] = word k of each of the set's four streams.
    for (let j = 0; j < 4; j++) {
      [v0, v1, v2, v3].forEach((v, q) => emit(set(v, load(get(ptr(s, q)), 16 * j))));
      emit(set(t0, shuffle([0, 4, 1, 5], get(v0), get(v1))));
      emit(set(t1, shuffle([2, 6, 3, 7], get(v0), get(v1))));
      emit(set(t2, shuffle([0, 4, 1, 5], get(v2), get(v3))));
      emit(set(t3, shuffle([2, 6, 3, 7], get(v2), get(v3))));
      emit(set(p.m[4 * j]!, shuffle([0, 1, 4, 5], get(t0), get(t2))));
      emit(set(p.m[4 * j + 1]!, shuffle([2, 3, 6, 7], get(t0), get(t2))));
      emit(set(p.m[4 * j + 2]!, shuffle([0, 1, 4, 5], get(t1), get(t3))));
      emit(set(p.m[4 * j + 3]!, shuffle([2, 3, 6, 7], get(t1), get(t3))));
    }
    p.abcd.forEach((x, w) => emit(set(p.saved[w]!, get(x))));
  });
  const roles = perSet.map((p) => [...p.abcd]);
  for (let i = 0; i < 64; i++) {
    perSet.forEach((p, s) => {
      const [a, b, c, d] = roles[s]! as [number, number, number, number];
      let f: Code;
      if (i < 16) f = simd(V128_BITSELECT, get(c), get(d), get(b)); // (b & c) | (~b & d)
      else if (i < 32) f = simd(V128_BITSELECT, get(b), get(c), get(d)); // (d & b) | (~d & c)
      else if (i < 48) f = simd(V128_XOR, simd(V128_XOR, get(b), get(c)), get(d));
      else f = simd(V128_XOR, get(c), simd(V128_OR, get(b), simd(V128_NOT, get(d))));
      emit(set(p.tmp, add(add(get(a), f), add(get(p.m[wordOf(i)]!), splat(T[i]!)))));
      const r = SHIFTS[4 * Math.floor(i / 16) + (i % 4)]!;
      emit(set(a, add(get(b), simd(V128_OR, simd(I32X4_SHL, get(p.tmp), i32(r)), simd(I32X4_SHR_U, get(p.tmp), i32(32 - r))))));
      roles[s] = [d, a, b, c];
    });
  }
  perSet.forEach((p) => p.abcd.forEach((x, w) => emit(set(x, add(get(x), get(p.saved[w]!))))));
  for (let q = 0; q < N; q++) emit(set(q, [...get(q), ...i32(64), 0x6a])); // p += 64
  emit(set(N, [...get(N), ...i32(1), 0x6b])); // n -= 1
  emit([0x0c, 0, 0x0b, 0x0b]); // br 0 (loop), end loop, end block
  perSet.forEach((p, s) => p.abcd.forEach((x, w) => emit(store(i32(0), 64 * s + 16 * w, get(x)))));
  body.push(0x0b);

  const I32 = 0x7f;
  const V128 = 0x7b;
  const type = [0x60, ...vec(Array.from({ length: N + 1 }, () => [I32])), ...vec([])];
  const fn = [...vec([[...uleb(v128Locals), V128]]), ...body];
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([type])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], [...name('blocks'), 0x00, 0]])),
    ...section(10, vec([[...uleb(fn.length), ...fn]])),
  ]);
}
