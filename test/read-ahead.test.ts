/**
 * ReadAhead: every piece comes back with the file's bytes, whatever the
 * order of the reads (sequential, shuffled, long pieces past the window).
 */
import test from 'ava';
import fc from 'fast-check';
import { ReadAhead } from '../lib/io/read-ahead.js';
import { ScratchFile } from '../lib/io/scratch-file.js';
import { tempDir } from './e2e/harness.js';

test('pieces read in file order, in shuffled order and repeated equal what was appended', (t) => {
  const dir = tempDir(t, 'ekv-read-ahead-');
  const f = new ScratchFile(dir, { anonymous: true });
  t.teardown(() => f.close());
  const pieces: Array<{ at: number; bytes: Buffer }> = [];
  for (let i = 0; i < 3000; i++) {
    const n = i % 97 === 0 ? 300_000 : (i * 37) % 5000; // some longer than the direct-read threshold
    const bytes = Buffer.alloc(n, i % 256);
    if (n > 0) bytes[0] = (i * 7) % 256;
    pieces.push({ at: f.append(bytes), bytes });
  }
  f.flush();
  const check = (order: number[]): boolean => {
    const r = new ReadAhead(f);
    for (const k of order) {
      const { at, bytes } = pieces[k]!;
      const dst = Buffer.alloc(bytes.length + 2, 0xee);
      r.read(dst, 1, bytes.length, at);
      if (!dst.subarray(1, 1 + bytes.length).equals(bytes) || dst[0] !== 0xee || dst[bytes.length + 1] !== 0xee) return false;
    }
    return true;
  };
  t.true(check(pieces.map((_, k) => k)));
  fc.assert(fc.property(fc.array(fc.nat(pieces.length - 1), { maxLength: 400 }), check), { numRuns: 30 });
});
