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

/** Pieces of text, `size` bytes each, all handed out in one buffer that the next piece overwrites (as CHECKSUMS is read back). */
function* reusedPieces(text: string, size: number): Generator<Buffer> {
  const b = Buffer.alloc(size);
  for (let at = 0; at < text.length; at += size) yield b.subarray(0, b.write(text.slice(at, at + size), 'latin1'));
}

test('files given in pieces that overwrite each other (one reused buffer) keep their bytes, small and large', async (t) => {
  const small = 'abcdefghij'.repeat(100); // 1000 bytes in 7 pieces: queued with the small files
  const large = Array.from({ length: 300_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('') + 'x'.repeat(1_000_000); // > 1 MiB: consumed when written
  const entries = await archive(t, async (target) => {
    await target.putFile(Buffer.from('MANIFEST.json'), small.length, reusedPieces(small, 150), 0o644);
    await target.putFile(Buffer.from('CHECKSUMS'), large.length, reusedPieces(large, 65536), 0o644);
    await target.finish();
  });
  t.deepEqual(
    entries.map((e) => [e.name, e.data.length, e.data === (e.name === 'CHECKSUMS' ? large : small)]),
    [
      ['MANIFEST.json', small.length, true],
      ['CHECKSUMS', large.length, true],
    ],
  );
});
