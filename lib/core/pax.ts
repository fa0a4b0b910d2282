/**
 * pax extended headers (POSIX.1-2001) for entry names that are not UTF-8.
 * An object key is raw bytes; tar-stream only writes names as strings
 * (UTF-8), so such a name goes in a pax header of our own: `hdrcharset=BINARY`
 * tells the reader (GNU tar, bsdtar) to take the `path` bytes as they are,
 * not as UTF-8 — the archive then holds the same bytes as the `-o` tree.
 */

/** One record, "<len> <keyword>=<value>\n", where len counts the whole record, its own digits included. */
function paxRecord(keyword: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${keyword}=`, 'latin1'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

/** The body of a pax extended header ('x' entry) naming the next entry with these exact bytes. */
export function binaryPathPax(path: Buffer): Buffer {
  return Buffer.concat([paxRecord('hdrcharset', Buffer.from('BINARY')), paxRecord('path', path)]);
}

const BLOCK = 512;

/** A NUL-terminated octal field of `width` bytes. */
function octal(buf: Buffer, at: number, width: number, n: number): void {
  buf.write(n.toString(8).padStart(width - 1, '0'), at, width - 1, 'latin1');
}

/**
 * The whole pax extended header entry (ustar header with typeflag 'x', then
 * the body padded to 512 bytes) naming the next entry with path's exact
 * bytes. Written as raw blocks because tar-stream can give its pax entries
 * string values only, which it encodes as UTF-8.
 */
export function binaryPathPaxEntry(path: Buffer, mtime: Date): Buffer {
  const body = binaryPathPax(path);
  const header = Buffer.alloc(BLOCK);
  header.write('PaxHeader', 0, 'latin1');
  octal(header, 100, 8, 0o644); // mode
  octal(header, 108, 8, 0); // uid
  octal(header, 116, 8, 0); // gid
  octal(header, 124, 12, body.length); // size
  octal(header, 136, 12, Math.max(0, Math.floor(mtime.getTime() / 1000))); // mtime
  header.write('x', 156, 'latin1'); // typeflag: pax extended header for the next entry
  header.write('ustar\u000000', 257, 'latin1'); // magic "ustar\0" and version "00"
  // Checksum: the sum of the header's bytes with its own field read as spaces.
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  const padding = Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK);
  return Buffer.concat([header, body, padding]);
}

/**
 * The ustar name field behind such a header, read only by tools that ignore
 * pax: printable ASCII (other bytes become '_'), short enough (the last 99
 * bytes) that tar-stream needs no pax header of its own, which would replace ours.
 */
export function asciiFallbackName(path: Buffer): string {
  let s = '';
  for (const b of path.subarray(Math.max(0, path.length - 99))) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '_';
  return s;
}
