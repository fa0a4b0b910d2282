import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { ExternalSorter, MAX_FAN_IN } from '../lib/io/external-sort.js';

function scratch(t: import('ava').ExecutionContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-sorter-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function sortAll(dir: string, keys: Buffer[], budgetBytes: number): Promise<{ out: Buffer[]; payloads: string[]; runs: number }> {
  const s = new ExternalSorter({ dir, budgetBytes });
  for (const [i, k] of keys.entries()) await s.add(k, Buffer.from(String(i)));
  const out: Buffer[] = [];
  const payloads: string[] = [];
  for await (const r of s.sorted()) {
    out.push(r.key);
    payloads.push(r.payload.toString());
  }
  const runs = s.runCount;
  await s.close();
  return { out, payloads, runs };
}

test('orders by key bytes, not JavaScript string (UTF-16) order', async (t) => {
  // U+1F600 is F0 9F 98 80 in UTF-8 but D83D DE00 in UTF-16; U+FF5E is EF BD 9E / FF5E.
  const emoji = Buffer.from('\u{1F600}');
  const tilde = Buffer.from('\uFF5E');
  t.true('\u{1F600}' < '\uFF5E', 'string order puts the emoji first');
  const { out } = await sortAll(scratch(t), [emoji, tilde, Buffer.from('a'), Buffer.from([0xff]), Buffer.alloc(0)], 1 << 20);
  t.deepEqual(
    out.map((b) => b.toString('hex')),
    ['', '61', 'efbd9e', 'f09f9880', 'ff'],
  );
});

test('spills runs past the budget and merges them; files are removed by close()', async (t) => {
  const dir = scratch(t);
  const keys = Array.from({ length: 500 }, (_, i) => Buffer.from(`k${(i * 7919) % 500}`.padEnd(20, '.')));
  const { out, payloads, runs } = await sortAll(dir, keys, 4096);
  t.true(runs > 5, `runs: ${runs}`);
  t.deepEqual(out, [...keys].sort(Buffer.compare));
  t.is(new Set(payloads).size, 500, 'every payload once');
  t.deepEqual(fs.readdirSync(dir), []);
});

test('merges at most fanIn runs at once: more runs are merged in passes first (a merge of merges)', async (t) => {
  for (const fanIn of [3, undefined]) {
    const dir = scratch(t);
    const s = new ExternalSorter({ dir, budgetBytes: 256, ...(fanIn !== undefined ? { fanIn } : {}) });
    // 2 000 distinct keys of 12 bytes in a scrambled order; ~5 records a run: some 400 runs.
    const keys = Array.from({ length: 2000 }, (_, i) => Buffer.from(`key-${String((i * 7919) % 2000).padStart(8, '0')}`));
    for (const [i, k] of keys.entries()) await s.add(k, Buffer.from(`p${i}`));
    const out: string[] = [];
    for await (const r of s.sorted()) out.push(`${r.key.toString()}=${r.payload.toString()}`);
    const limit = fanIn ?? MAX_FAN_IN;
    t.true(s.runCount > limit * limit, `runs spilled: ${s.runCount}`);
    t.true(s.widestMerge <= limit && s.widestMerge >= 2, `widest merge: ${s.widestMerge} runs, limit ${limit}`);
    t.deepEqual(out, keys.map((k, i) => `${k.toString()}=p${i}`).sort());
    await s.close();
    t.deepEqual(fs.readdirSync(dir), [], 'merged passes and runs removed');
  }
});

test('property: sorted output is the input sorted bytewise, in memory or spilled', async (t) => {
  const dir = scratch(t);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 200 }), fc.constantFrom(256, 1 << 20), async (arrs, budget) => {
      const keys = arrs.map((a) => Buffer.from(a));
      const { out } = await sortAll(dir, keys, budget);
      return Buffer.concat(out.map((k) => Buffer.concat([Buffer.from([k.length]), k]))).equals(
        Buffer.concat([...keys].sort(Buffer.compare).map((k) => Buffer.concat([Buffer.from([k.length]), k]))),
      );
    }),
    { numRuns: 40 },
  );
  t.pass();
});

test('a merge gives back every record whole: inside a run read, across the end of one, and larger than one', async (t) => {
  const dir = scratch(t);
  // Runs of ~1 MiB read back through READ_BYTES (256 KiB) buffers: most records lie inside one read,
  // some straddle two, and a few are larger than the read buffer itself.
  const records: Array<{ key: Buffer; payload: Buffer }> = [];
  for (let i = 0; i < 3000; i++) {
    const size = i % 997 === 0 ? 300 * 1024 + i : 100 + ((i * 7919) % 1900);
    const payload = Buffer.alloc(size, i & 0xff);
    payload.writeUInt32BE(i, size - 4);
    records.push({ key: Buffer.from(`k${((i * 7919) % 3000).toString().padStart(4, '0')}-${i}`), payload });
  }
  const s = new ExternalSorter({ dir, budgetBytes: 1 << 20 });
  for (const r of records) await s.add(r.key, r.payload);
  const out: Array<{ key: Buffer; payload: Buffer }> = [];
  for await (const r of s.sorted()) out.push({ key: Buffer.from(r.key), payload: Buffer.from(r.payload) });
  t.true(s.runCount >= 3, `runs: ${s.runCount}`);
  await s.close();
  t.deepEqual(
    out,
    [...records].sort((a, b) => Buffer.compare(a.key, b.key)),
  );
});

/** Counts Buffer.allocUnsafe / allocUnsafeSlow calls of at least min bytes while fn runs. */
async function countAllocations<T>(min: number, fn: () => Promise<T>): Promise<{ unsafe: number; slow: number }> {
  const { allocUnsafe, allocUnsafeSlow } = Buffer;
  const n = { unsafe: 0, slow: 0 };
  Buffer.allocUnsafe = (size: number) => {
    if (size >= min) n.unsafe++;
    return allocUnsafe(size);
  };
  Buffer.allocUnsafeSlow = (size: number) => {
    if (size >= min) n.slow++;
    return allocUnsafeSlow(size);
  };
  try {
    await fn();
  } finally {
    Object.assign(Buffer, { allocUnsafe, allocUnsafeSlow });
  }
  return n;
}

// Serial: Buffer's allocators are replaced process-wide while it runs.
test.serial('memory is reused, not remade: runs refill the blocks of the last one, and a merge reads each run through one buffer', async (t) => {
  const dir = scratch(t);
  const s = new ExternalSorter({ dir, budgetBytes: 1 << 20 });
  const payload = Buffer.alloc(100, 0x70);
  // ~6 700 records of 156 bytes (with the per-record overhead) a run: 20 runs of 1 MiB.
  const spilling = await countAllocations(256 * 1024, async () => {
    for (let i = 0; i < 140_000; i++) await s.add(Buffer.from(`key-${String((i * 7919) % 140_000).padStart(12, '0')}`), payload);
  });
  t.true(s.runCount >= 20, `runs: ${s.runCount}`);
  // A run's records take 1 MiB of 256 KiB blocks: 4–5 blocks in all, not 4–5 more per run.
  t.true(spilling.slow <= 12, `${spilling.slow} arena blocks made for ${s.runCount} runs`);
  let n = 0;
  let disorder = 0;
  let prev: Buffer | undefined;
  const merging = await countAllocations(256 * 1024, async () => {
    for await (const r of s.sorted()) {
      if (prev && Buffer.compare(prev, r.key) > 0) disorder++;
      prev = Buffer.from(r.key);
      n++;
    }
  });
  t.is(n, 140_000);
  t.is(disorder, 0);
  // One read buffer per run merged (21 readers: 16 runs into one, then 5), one write buffer for the merged run.
  t.true(merging.unsafe <= 2 * (s.runCount + 2), `${merging.unsafe} buffers of 256 KiB or more for a merge of ${s.runCount} runs of 1 MiB`);
  await s.close();
});

// Serial: Buffer's allocators and Uint32Array are replaced process-wide while it runs.
test.serial('every run a sorter writes (spilled, or a merge of merges) goes through one write buffer, and every spill is ordered in one index array', async (t) => {
  // New ones per run, alive across young collections while the run is
  // written, were garbage only a full collection freed: ~40 MiB at the end
  // of a million-object decode's output.
  const RealU32 = globalThis.Uint32Array;
  let indexArrays = 0;
  // Index arrays are made with a length (views of them with a buffer).
  globalThis.Uint32Array = class extends RealU32 {
    constructor(...args: unknown[]) {
      if (typeof args[0] === 'number' && args[0] > 0) indexArrays++;
      super(...(args as [number]));
    }
  } as Uint32ArrayConstructor;
  try {
    const s = new ExternalSorter({ dir: scratch(t), budgetBytes: 2048, fanIn: 3 });
    const keys = Array.from({ length: 3000 }, (_, i) => Buffer.from(`key-${String((i * 7919) % 3000).padStart(8, '0')}`));
    const out: string[] = [];
    const writing = await countAllocations(1 << 20, async () => {
      for (const [i, k] of keys.entries()) await s.add(k, Buffer.from(`p${i}`));
      for await (const r of s.sorted()) out.push(r.key.toString());
    });
    t.deepEqual(out, keys.map(String).sort());
    t.true(s.runCount > 50, `runs spilled: ${s.runCount}`);
    await s.close();
    t.is(writing.unsafe, 1, 'write buffers');
    // Grown by doubling as runs come: a few at most, not one a run.
    t.true(indexArrays <= 3, `index arrays: ${indexArrays}`);
  } finally {
    globalThis.Uint32Array = RealU32;
  }
});
