import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { TarTarget } from '../lib/sinks/tar.js';
import type { SpillFile } from '../lib/types.js';

/** Runs fn against a TarTarget and returns the archive's entries (name, type, mode, bytes) in order. */
async function archive(t: { teardown(fn: () => void): void }, fn: (target: TarTarget, file: SpillFile) => Promise<void>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-tar-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const scratch: SpillFile = { id: 1, path: path.join(dir, 'pool'), kind: 'pool' };
  fs.writeFileSync(scratch.path, 'HELLOWORLD');
  const pack = tar.pack();
  const extract = tar.extract();
  const entries: Array<{ name: string; type: string; mode: number; data: string }> = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const got: Buffer[] = [];
      stream.on('data', (b: unknown) => got.push(b as Buffer));
      stream.on('end', () => {
        entries.push({ name: h.name, type: h.type ?? 'file', mode: h.mode ?? 0, data: Buffer.concat(got).toString() });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  pack.pipe(extract);
  const target = new TarTarget(pack, new Date(0), dir);
  await fn(target, scratch);
  await target.close();
  await done;
  return entries;
}

test("a bucket's entries come out sorted by path bytes at endBucket, with their directories first; bodies are read from their spans", async (t) => {
  const entries = await archive(t, async (target, file) => {
    await target.putFile(Buffer.from('s3/b/z.elastickv-meta.json'), 2, [Buffer.from('{}')], 0o600);
    const w = await target.putSpans(Buffer.from('s3/b/z'), 5, [{ file, offset: 5, length: 5 }]);
    t.false(w.wantsBytes, 'tar reads the spans itself when the entry is written');
    await w.commit();
    const aborted = await target.putSpans(Buffer.from('s3/b/gone'), 5, [{ file, offset: 0, length: 5 }]);
    await aborted.abort();
    await target.putRun(Buffer.from('s3/b/a/run'), { file, size: 10, hashes: { sha256: Buffer.alloc(32), parts: [] } });
    await target.endBucket();
    await target.putFile(Buffer.from('MANIFEST.json'), 1, [Buffer.from('m')], 0o644);
    await target.putFile(Buffer.from('CHECKSUMS'), 1, [Buffer.from('c')], 0o644);
    await target.finish();
  });
  t.deepEqual(
    entries.map((e) => [e.name, e.type, e.mode, e.data]),
    [
      ['s3', 'directory', 0o755, ''],
      ['s3/b', 'directory', 0o755, ''],
      ['s3/b/a', 'directory', 0o755, ''],
      ['s3/b/a/run', 'file', 0o600, 'HELLOWORLD'],
      ['s3/b/z', 'file', 0o600, 'WORLD'],
      ['s3/b/z.elastickv-meta.json', 'file', 0o600, '{}'],
      ['MANIFEST.json', 'file', 0o644, 'm'],
      ['CHECKSUMS', 'file', 0o644, 'c'],
    ],
  );
});
