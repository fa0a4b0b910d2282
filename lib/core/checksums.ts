/**
 * CHECKSUMS in sha256sum's format (SPEC §6): `<hex>  <path>\n` sorted
 * bytewise by path. A path holding `\n`, `\r` or `\` is written in
 * sha256sum's escaped form: the line starts with `\` and those bytes become
 * `\n`, `\r`, `\\`.
 */
import { BLOCK, ByteArena, takeBlock } from './arena.js';
import { META_SUFFIX } from './names.js';

export interface ChecksumEntry {
  /** Path relative to the dump root, '/'-separated, raw bytes. */
  path: Buffer;
  sha256: Buffer;
}

export function renderChecksums(entries: ChecksumEntry[]): Buffer {
  const list = new ChecksumList();
  for (const e of entries) list.add(e.path, e.sha256);
  return list.render();
}

/** Entries per block of the list's columns (a digest block is an arena block). */
const PER_BLOCK = BLOCK / 32;

/** A length with this bit set: the path is the previous entry's plus META_SUFFIX. */
const SIDECAR = 0x80000000;
const SIDECAR_SUFFIX = Buffer.from(META_SUFFIX, 'latin1');

/**
 * The checksums of a dump as it is written: one per file, so it must stay
 * small per entry and out of the JavaScript heap. Paths are packed into an
 * arena (an entry is its position and length there; a sidecar added right
 * after its body shares the body's bytes), digests into blocks of 32-byte
 * slots.
 */
export class ChecksumList {
  private readonly arena = new ByteArena();
  private readonly at: Float64Array[] = [];
  private readonly lengths: Uint32Array[] = [];
  private readonly digests: Buffer[] = [];
  private n = 0;

  get length(): number {
    return this.n;
  }

  add(path: Buffer, sha256: Buffer): void {
    const b = Math.floor(this.n / PER_BLOCK);
    const i = this.n % PER_BLOCK;
    if (i === 0) {
      this.at.push(new Float64Array(PER_BLOCK));
      this.lengths.push(new Uint32Array(PER_BLOCK));
      this.digests.push(takeBlock());
    }
    const prev = this.n - 1;
    const prevLength = prev < 0 ? SIDECAR : this.lengths[Math.floor(prev / PER_BLOCK)]![prev % PER_BLOCK]!;
    const prevAt = prev < 0 ? 0 : this.at[Math.floor(prev / PER_BLOCK)]![prev % PER_BLOCK]!;
    if (
      (prevLength & SIDECAR) === 0 &&
      path.length === prevLength + SIDECAR_SUFFIX.length &&
      this.arena.equals(prevAt, prevLength, path.subarray(0, prevLength)) &&
      SIDECAR_SUFFIX.equals(path.subarray(prevLength))
    ) {
      this.at[b]![i] = prevAt;
      this.lengths[b]![i] = (prevLength | SIDECAR) >>> 0;
    } else {
      this.at[b]![i] = this.arena.put(path);
      this.lengths[b]![i] = path.length;
    }
    sha256.copy(this.digests[b]!, i * 32, 0, 32);
    this.n++;
  }

  /** CHECKSUMS bytes, sorted bytewise by path. */
  render(): Buffer {
    return Buffer.concat([...this.pieces().pieces]);
  }

  /**
   * CHECKSUMS as pieces of about PIECE_BYTES, made as they are consumed, and
   * their total size: a dump of millions of files need not hold the whole
   * text (some 100 bytes per file) at once.
   */
  pieces(): { size: number; pieces: Iterable<Buffer> } {
    const { arena, at, lengths, digests } = this;
    const n = this.n;
    const pos = (k: number) => at[Math.floor(k / PER_BLOCK)]![k % PER_BLOCK]!;
    const raw = (k: number) => lengths[Math.floor(k / PER_BLOCK)]![k % PER_BLOCK]!;
    const path = (k: number) => {
      const l = raw(k);
      return l & SIDECAR ? Buffer.concat([arena.view(pos(k), l & ~SIDECAR), SIDECAR_SUFFIX]) : arena.view(pos(k), l);
    };
    // Files are mostly added in path order: the sort has little to do.
    const order = new Uint32Array(n)
      .map((_, k) => k)
      .sort((x, y) => ((raw(x) | raw(y)) & SIDECAR ? Buffer.compare(path(x), path(y)) : arena.compare(pos(x), raw(x), pos(y), raw(y))));
    const lineLength = (p: Buffer) => (needsEscape(p) ? 1 + escapePath(p).length : p.length) + 64 + 3;
    let size = 0;
    for (let k = 0; k < n; k++) size += lineLength(path(k));
    function* pieces(): Generator<Buffer> {
      let k = 0;
      while (k < n) {
        let bytes = 0;
        const start = k;
        while (k < n && (k === start || bytes + lineLength(path(order[k]!)) <= PIECE_BYTES)) bytes += lineLength(path(order[k++]!));
        const out = Buffer.allocUnsafe(bytes);
        let o = 0;
        for (let j = start; j < k; j++) {
          const e = order[j]!;
          let p = path(e);
          if (needsEscape(p)) {
            out[o++] = 0x5c;
            p = escapePath(p);
          }
          const d = e % PER_BLOCK;
          o += out.write(digests[Math.floor(e / PER_BLOCK)]!.toString('hex', d * 32, d * 32 + 32), o, 'latin1');
          out[o++] = 0x20;
          out[o++] = 0x20;
          o += p.copy(out, o);
          out[o++] = 0x0a;
        }
        yield out;
      }
    }
    return { size, pieces: pieces() };
  }
}

/** CHECKSUMS is handed out in pieces of about this many bytes. */
const PIECE_BYTES = 1 << 20;

function needsEscape(p: Buffer): boolean {
  return p.includes(0x0a) || p.includes(0x0d) || p.includes(0x5c);
}

function escapePath(p: Buffer): Buffer {
  const out: number[] = [];
  for (const b of p) {
    if (b === 0x0a) out.push(0x5c, 0x6e);
    else if (b === 0x0d) out.push(0x5c, 0x72);
    else if (b === 0x5c) out.push(0x5c, 0x5c);
    else out.push(b);
  }
  return Buffer.from(out);
}
