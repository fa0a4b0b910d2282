/**
 * CHECKSUMS in sha256sum's format (SPEC §6): `<hex>  <path>\n` sorted
 * bytewise by path. A path holding `\n`, `\r` or `\` is written in
 * sha256sum's escaped form: the line starts with `\` and those bytes become
 * `\n`, `\r`, `\\`.
 */
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

/**
 * The checksums of a dump as it is written: one per file, so it must stay
 * small per entry. Paths are kept as latin1 strings (one byte per path byte,
 * and JavaScript compares them bytewise) and digests packed in one buffer.
 */
export class ChecksumList {
  private readonly paths: string[] = [];
  private digests = Buffer.allocUnsafeSlow(32 * 1024);

  get length(): number {
    return this.paths.length;
  }

  add(path: Buffer, sha256: Buffer): void {
    const i = this.paths.length;
    if ((i + 1) * 32 > this.digests.length) {
      const bigger = Buffer.allocUnsafeSlow(this.digests.length * 2);
      this.digests.copy(bigger);
      this.digests = bigger;
    }
    sha256.copy(this.digests, i * 32);
    this.paths.push(path.toString('latin1'));
  }

  /** CHECKSUMS bytes, sorted bytewise by path. */
  render(): Buffer {
    const order = this.paths.map((_, i) => i).sort((a, b) => (this.paths[a]! < this.paths[b]! ? -1 : this.paths[a]! > this.paths[b]! ? 1 : 0));
    const parts: Buffer[] = [];
    for (const i of order) {
      const path = Buffer.from(this.paths[i]!, 'latin1');
      const escaped = needsEscape(path);
      parts.push(Buffer.from(`${escaped ? '\\' : ''}${this.digests.toString('hex', i * 32, i * 32 + 32)}  `, 'latin1'));
      parts.push(escaped ? escapePath(path) : path, NEWLINE);
    }
    return Buffer.concat(parts);
  }
}

const NEWLINE = Buffer.from('\n');

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
