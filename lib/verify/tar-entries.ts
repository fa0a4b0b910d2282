/**
 * A dump as a tar stream (plain or gzip, told apart by the gzip magic):
 * its entries one at a time, with paths checked to stay inside the dump.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Readable as NodeReadable } from 'node:stream';
import tar from 'tar-stream';
import { DecodeError } from '../errors.js';

export interface TarEntry {
  /** Path relative to the dump root ('./' and a directory's trailing '/' removed). */
  path: Buffer;
  /** 'file', 'directory', or the tar type of anything else (symlink, link, fifo, …). */
  type: string;
  size: number;
  /** The entry's bytes; must be consumed (or resume()d) before the next entry. */
  stream: Readable;
}

/** The stream, gunzipped when it starts with the gzip magic. */
async function decompressed(input: Readable): Promise<Readable> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  const head: Buffer | undefined = first.done ? undefined : first.value;
  async function* all(): AsyncGenerator<Buffer> {
    if (head) yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const raw = NodeReadable.from(all(), { objectMode: false });
  if (head && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    return raw.pipe(gunzip);
  }
  return raw;
}

/** Why a tar path is unsafe, or undefined when it is a clean relative path. */
export function unsafeTarPath(name: string): string | undefined {
  if (name.startsWith('/')) return 'absolute path';
  if (name.includes('\\')) return 'backslash in path';
  if (name.includes('\0')) return 'NUL in path';
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return `path segment '${seg}'`;
  }
  return undefined;
}

/** Calls onEntry for every entry of a tar (or tar.gz) stream, in archive order. */
export async function forEachTarEntry(input: Readable, onEntry: (e: TarEntry) => Promise<void>): Promise<void> {
  const src = await decompressed(input);
  const extract = tar.extract();
  src.on('error', (e) => extract.destroy(e));
  src.pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const h = entry.header;
    let name = h.name;
    while (name.startsWith('./')) name = name.slice(2);
    if (h.type === 'directory') name = name.replace(/\/+$/, '');
    if (name === '' && h.type === 'directory') {
      entry.resume();
      continue;
    }
    const bad = unsafeTarPath(name);
    if (bad !== undefined) {
      extract.destroy();
      throw new DecodeError('ERR_DUMP_INVALID', `unsafe tar entry (${bad})`, { path: JSON.stringify(h.name) });
    }
    const type = h.type === 'contiguous-file' ? 'file' : (h.type ?? 'file');
    await onEntry({ path: Buffer.from(name, 'utf8'), type, size: h.size ?? 0, stream: entry as unknown as Readable });
    entry.resume();
  }
}
