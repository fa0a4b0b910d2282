/**
 * Reads a dump directory into facts through a FactCollector: MANIFEST.json,
 * CHECKSUMS, each bucket's _bucket.json and KEYMAP.jsonl before its other
 * files (the encoder needs the bucket name and the renames before it meets
 * an object), then every entry under the root, streaming (a directory of a
 * million files is never listed whole). Bodies are hashed here only when
 * asked (the verifier); the encoder hashes them as it encodes.
 */
import fs, { type Dir, type Dirent } from 'node:fs';
import fsp from 'node:fs/promises';
import { printable } from '../core/printable.js';
import { DecodeError, ioError } from '../errors.js';
import type { FactCollector } from './collector.js';
import { pathRole } from './facts.js';
import { readLines, readSmallFile, streamFile } from './read-file.js';
import { HashPool } from '../stages/hash-pool.js';

export interface WalkOptions {
  /** Hash bodies (SHA-256 and MD5) during the walk. */
  hashBodies: boolean;
}

const SLASH = Buffer.from('/');
const join = (a: Buffer, b: Buffer): Buffer => (a.length === 0 ? b : Buffer.concat([a, SLASH, b]));
const B = (s: string) => Buffer.from(s, 'latin1');

export async function walkDumpDir(root: string, c: FactCollector, opts: WalkOptions): Promise<void> {
  const rootBuf = Buffer.from(root);
  const abs = (rel: Buffer) => (rel.length ? Buffer.concat([rootBuf, SLASH, rel]) : rootBuf);
  // Large bodies are hashed on worker threads (started with the first): SHA-256 and MD5 on two cores while this thread reads.
  const pool = opts.hashBodies ? new HashPool({ md5: true }) : undefined;
  const st = await fsp.lstat(root).catch((e: unknown) => {
    throw ioError(e, root, 'cannot read the dump');
  });
  if (!st.isDirectory()) throw new DecodeError('ERR_USAGE', 'the dump is not a directory', { path: root });

  if (isRegular(abs(B('MANIFEST.json')))) {
    const m = readSmallFile(abs(B('MANIFEST.json')), 'MANIFEST.json');
    await c.manifestFile(B('MANIFEST.json'), m.bytes, m.sha256);
  }
  if (isRegular(abs(B('CHECKSUMS')))) {
    await readLines(abs(B('CHECKSUMS')), 'CHECKSUMS', (line, n) => c.checksumsLine(B('CHECKSUMS'), line, n));
  }

  const bucketHead = async (dirRel: Buffer, dir: string) => {
    c.bucketDir(dir);
    const bj = join(dirRel, B('_bucket.json'));
    if (isRegular(abs(bj))) {
      const f = readSmallFile(abs(bj), printable(bj));
      await c.bucketJson(bj, dir, f.bytes, f.sha256);
    }
    const km = join(dirRel, B('KEYMAP.jsonl'));
    if (!(isRegular(abs(km)))) return;
    const bucketRoot = Buffer.concat([dirRel, SLASH]);
    const h = await readLines(abs(km), printable(km), (line, n) => c.keymapLine(km, bucketRoot, line, n));
    await c.hashed(km, h);
  };

  const visitFile = async (rel: Buffer) => {
    const role = pathRole(rel);
    switch (role.role) {
      case 'manifest':
      case 'checksums':
      case 'bucket-json':
      case 'keymap':
        return; // read above
      case 'sidecar': {
        const f = readSmallFile(abs(rel), printable(rel));
        await c.sidecar(rel, role, f.bytes, f.sha256, isRegular(abs(role.body)));
        return;
      }
      case 'body':
        if (!opts.hashBodies) return;
        break;
      default:
        c.controlFile(rel, role);
    }
    await c.hashed(rel, await streamFile(abs(rel), printable(rel), { md5: role.role === 'body', ...(pool ? { pool } : {}) }));
  };

  const walk = async (rel: Buffer): Promise<void> => {
    let dir: Dir;
    try {
      // At run time opendir gives Buffer names with encoding 'buffer' (object keys need not be UTF-8).
      dir = await fsp.opendir(abs(rel), { encoding: 'buffer' as BufferEncoding });
    } catch (e) {
      throw ioError(e, printable(rel) || '.', 'cannot list directory');
    }
    const inS3 = rel.length === 2 && rel.toString('latin1') === 's3';
    for await (const ent of dir) {
      const child = join(rel, ent.name as unknown as Buffer);
      if (ent.isDirectory()) {
        if (inS3) await bucketHead(child, child.toString('latin1', 3));
        await walk(child);
        continue;
      }
      if (!ent.isFile()) {
        await c.add(child, { t: 'other', what: `not a regular file or directory (${kindOf(ent)})` });
        continue;
      }
      const lst = lstatOrUndefined(abs(child));
      if (!lst) continue; // gone since it was listed: CHECKSUMS will miss it
      if (lst.nlink > 1) {
        await c.add(child, { t: 'other', what: `regular file with ${lst.nlink} hard links` });
        continue;
      }
      await c.add(child, { t: 'file', size: lst.size });
      await visitFile(child);
    }
  };
  try {
    await walk(Buffer.alloc(0));
  } finally {
    await pool?.close();
  }
  await c.finish();
}

function lstatOrUndefined(p: Buffer): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

function isRegular(p: Buffer): boolean {
  const st = lstatOrUndefined(p);
  return st !== undefined && st.isFile() && st.nlink === 1;
}

function kindOf(ent: Dirent): string {
  if (ent.isSymbolicLink()) return 'symlink';
  if (ent.isFIFO()) return 'FIFO';
  if (ent.isSocket()) return 'socket';
  if (ent.isBlockDevice() || ent.isCharacterDevice()) return 'device';
  return 'unknown type';
}
