/**
 * CHECKSUMS in sha256sum's format (SPEC §6): `<hex>  <path>\n` sorted
 * bytewise by path. A path holding `\n`, `\r` or `\` is written in
 * sha256sum's escaped form: the line starts with `\` and those bytes become
 * `\n`, `\r`, `\\`.
 */
import { BLOCK, ByteArena, takeBlock } from './arena.js';
import { BlockColumn } from './block-column.js';

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

/** Digests per block (an arena-sized block of 32-byte slots). */
const PER_BLOCK = BLOCK / 32;

/**
 * The checksums of a dump as it is written: one per file, so it must stay
 * small per entry and out of the JavaScript heap. Paths are packed into an
 * arena (an entry is its position and length there; a sidecar added right
 * after its body shares the body's bytes), digests into blocks of 32-byte
 * slots.
 */
export class ChecksumList {
  private readonly arena = new ByteArena();
  private readonly at = new BlockColumn(Float64Array);
  private readonly lengths = new BlockColumn(Uint32Array);
  private readonly digests: Buffer[] = [];
  private n = 0;

  get length(): number {
    return this.n;
  }

  add(path: Buffer, sha256: Buffer): void {
    const k = this.n++;
    const prev = k - 1;
    this.at.set(k, this.arena.putExtending(path, prev < 0 ? 0 : this.at.get(prev), prev < 0 ? 0 : this.lengths.get(prev)));
    this.lengths.set(k, path.length);
    if (k % PER_BLOCK === 0) this.digests.push(takeBlock());
    sha256.copy(this.digests[Math.floor(k / PER_BLOCK)]!, (k % PER_BLOCK) * 32, 0, 32);
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
    const path = (k: number) => arena.view(at.get(k), lengths.get(k));
    // Files are mostly added in path order: the sort has little to do.
    const order = new Uint32Array(n).map((_, k) => k).sort((x, y) => arena.compare(at.get(x), lengths.get(x), at.get(y), lengths.get(y)));
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
