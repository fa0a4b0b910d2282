/**
 * A local directory as a SnapshotStore: key `a/b/c` is the file
 * `ROOT/a/b/c`. Symbolic links are not followed out of the listing
 * (only regular files are objects).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { DecodeError, ioError } from '../errors.js';
import type { SnapshotStore, StoreObject } from './store.js';

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A SnapshotStore over a local directory (`new LocalStore(dir)`). */
export class LocalStore implements SnapshotStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  describe(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  async *list(prefix: string): AsyncIterable<StoreObject> {
    // Walk only the directory the prefix names (its part up to the last '/').
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const found: StoreObject[] = [];
    await this.walk(dirKey, found);
    found.sort((a, b) => byBytes(a.key, b.key));
    for (const o of found) if (o.key.startsWith(prefix)) yield o;
  }

  async get(key: string): Promise<Readable> {
    return this.open(key, {});
  }

  async getRange(key: string, start: number, end: number): Promise<Readable> {
    if (end <= start) throw new DecodeError('ERR_USAGE', `empty byte range [${start}, ${end}) of ${key}`);
    return this.open(key, { start, end: end - 1 });
  }

  private async open(key: string, range: { start?: number; end?: number }): Promise<Readable> {
    const file = this.describe(key);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (e) {
      throw ioError(e, file, 'cannot open store object');
    }
    return fh.createReadStream({ highWaterMark: 1 << 20, ...range });
  }

  private async walk(dirKey: string, out: StoreObject[]): Promise<void> {
    const dir = this.describe(dirKey);
    let ents: fs.Dirent[];
    try {
      ents = await fsp.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError(e, dir, 'cannot list the store');
    }
    for (const e of ents) {
      const key = `${dirKey}${e.name}`;
      if (e.isDirectory()) await this.walk(`${key}/`, out);
      else if (e.isFile()) out.push({ key, size: (await fsp.stat(this.describe(key))).size });
    }
  }
}
