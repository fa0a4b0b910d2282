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
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.path, b.path));
  const parts: Buffer[] = [];
  for (const e of sorted) {
    const escaped = needsEscape(e.path);
    parts.push(Buffer.from(`${escaped ? '\\' : ''}${e.sha256.toString('hex')}  `, 'latin1'));
    parts.push(escaped ? escapePath(e.path) : e.path, NEWLINE);
  }
  return Buffer.concat(parts);
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
