/**
 * CHECKSUMS in sha256sum's format (SPEC §6): `<hex>  <path>\n` sorted
 * bytewise by path. A path holding `\n`, `\r` or `\` is written in
 * sha256sum's escaped form: the line starts with `\` and those bytes become
 * `\n`, `\r`, `\\`.
 */
import { BLOCK, ByteArena, takeBlock } from './arena.js';

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

/**
 * The checksums of a dump as it is written: one per file, so it must stay
 * small per entry and out of the JavaScript heap. Paths are packed into an
 * arena (an entry is its position and length there), digests into blocks of
 * 32-byte slots.
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
    this.at[b]![i] = this.arena.put(path);
    this.lengths[b]![i] = path.length;
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
    const len = (k: number) => lengths[Math.floor(k / PER_BLOCK)]![k % PER_BLOCK]!;
    const path = (k: number) => arena.view(pos(k), len(k));
    // Files are mostly added in path order: the sort has little to do.
    const order = new Uint32Array(n).map((_, k) => k).sort((x, y) => arena.compare(pos(x), len(x), pos(y), len(y)));
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
