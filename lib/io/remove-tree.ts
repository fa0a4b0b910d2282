/**
 * Removes a directory tree in memory bounded by its depth, not its file
 * count. Node's `fs.promises.rm(dir, { recursive: true })` starts the
 * removal of every entry of a directory at once, recursively: for a
 * scratch dump of a million objects that is millions of pending promises
 * and paths (gigabytes). Here directories are listed streaming (opendir),
 * files unlinked a batch at a time, subdirectories removed one after the
 * other. Names are bytes (a dump's names need not be UTF-8).
 */
import fsp from 'node:fs/promises';
import type { Dir } from 'node:fs';

/** Unlinks started together before waiting for them. */
const UNLINK_BATCH = 32;
const SLASH = Buffer.from('/');

const missing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** Removes path (a file or a directory tree); a missing path is not an error (as rm -rf). */
export async function removeTree(target: string | Buffer): Promise<void> {
  const p = typeof target === 'string' ? Buffer.from(target) : target;
  const st = await fsp.lstat(p).catch((e: unknown) => {
    if (missing(e)) return undefined;
    throw e;
  });
  if (!st) return;
  if (!st.isDirectory()) return unlink(p);
  await removeDir(p);
}

async function removeDir(dir: Buffer): Promise<void> {
  // An entry listed while it was being unlinked may be listed again, or a
  // new one may appear: list until the directory is empty or a pass removes nothing.
  for (;;) {
    const removed = await emptyOnce(dir);
    try {
      await fsp.rmdir(dir);
      return;
    } catch (e) {
      if (missing(e)) return;
      if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || removed === 0) throw e;
    }
  }
}

/** One pass over dir's entries; returns how many were removed. */
async function emptyOnce(dir: Buffer): Promise<number> {
  let d: Dir;
  try {
    d = await fsp.opendir(dir, { encoding: 'buffer' as BufferEncoding });
  } catch (e) {
    if (missing(e)) return 0;
    throw e;
  }
  let removed = 0;
  let batch: Array<Promise<void>> = [];
  const drain = async () => {
    const pending = batch;
    batch = [];
    await Promise.all(pending);
  };
  try {
    for await (const ent of d) {
      const child = Buffer.concat([dir, SLASH, ent.name as unknown as Buffer]);
      removed++;
      if (ent.isDirectory()) {
        await drain();
        await removeDir(child);
        continue;
      }
      batch.push(unlink(child));
      if (batch.length >= UNLINK_BATCH) await drain();
    }
  } finally {
    // Settle every unlink started, even when the listing failed; the first error wins.
    const settled = await Promise.allSettled(batch);
    batch = [];
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return removed;
}

async function unlink(p: Buffer): Promise<void> {
  await fsp.unlink(p).catch((e: unknown) => {
    if (!missing(e)) throw e;
  });
}
