/**
 * Reads a dump given as a tar (or tar.gz) stream into facts, without
 * writing anything: each entry is hashed (and parsed, for the dump's own
 * JSON files) as it streams by.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DecodeError } from '../errors.js';
import type { FactCollector } from './collector.js';
import { pathRole } from './facts.js';
import { LineFeeder, SMALL_FILE_MAX, type FileHashes } from './read-file.js';
import { forEachTarEntry } from './tar-entries.js';

/** Reads an entry, hashing it; onChunk sees every piece. */
async function hashEntry(stream: Readable, md5: boolean, onChunk?: (b: Buffer) => Promise<void> | void): Promise<FileHashes> {
  const sha = createHash('sha256');
  const m = md5 ? createHash('md5') : undefined;
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    sha.update(chunk);
    m?.update(chunk);
    size += chunk.length;
    if (onChunk) await onChunk(chunk);
  }
  return { size, sha256: sha.digest('hex'), ...(m ? { md5: m.digest('hex') } : {}) };
}

async function readWhole(stream: Readable, size: number, show: string): Promise<{ bytes: Buffer; sha256: string }> {
  if (size > SMALL_FILE_MAX) throw new DecodeError('ERR_DUMP_INVALID', `file of ${size} bytes is too large for its role`, { path: show });
  const parts: Buffer[] = [];
  const h = await hashEntry(stream, false, (b) => {
    parts.push(b);
  });
  return { bytes: Buffer.concat(parts), sha256: h.sha256 };
}

async function lines(stream: Readable, onLine: (line: Buffer, n: number) => Promise<void>): Promise<FileHashes> {
  const feeder = new LineFeeder(onLine);
  const h = await hashEntry(stream, false, (chunk) => feeder.feed(chunk));
  await feeder.end();
  return h;
}

export async function walkDumpTar(input: Readable, c: FactCollector): Promise<void> {
  await forEachTarEntry(input, async (e) => {
    const rel = e.path;
    const s = rel.toString('latin1');
    const bucket = /^s3\/([^/]+)(\/|$)/.exec(s);
    if (bucket && (bucket[2] === '/' || e.type === 'directory')) c.bucketDir(bucket[1]!);
    if (e.type === 'directory') return;
    if (e.type !== 'file') {
      await c.add(rel, { t: 'other', what: `not a regular file or directory (tar ${e.type})` });
      return;
    }
    await c.add(rel, { t: 'file', size: e.size });
    const role = pathRole(rel);
    const show = s;
    switch (role.role) {
      case 'manifest': {
        const f = await readWhole(e.stream, e.size, show);
        return c.manifestFile(rel, f.bytes, f.sha256);
      }
      case 'checksums':
        await lines(e.stream, (line, n) => c.checksumsLine(rel, line, n));
        return;
      case 'bucket-json': {
        const f = await readWhole(e.stream, e.size, show);
        return c.bucketJson(rel, role.bucketDir, f.bytes, f.sha256);
      }
      case 'keymap': {
        const bucketRoot = Buffer.from(`s3/${role.bucketDir}/`, 'latin1');
        return c.hashed(rel, await lines(e.stream, (line, n) => c.keymapLine(rel, bucketRoot, line, n)));
      }
      case 'sidecar': {
        const f = await readWhole(e.stream, e.size, show);
        return c.sidecar(rel, role, f.bytes, f.sha256, false);
      }
      case 'body':
        break;
      default:
        c.controlFile(rel, role);
    }
    return c.hashed(rel, await hashEntry(e.stream, role.role === 'body'));
  });
  await c.finish();
}
