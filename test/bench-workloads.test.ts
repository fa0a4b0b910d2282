/**
 * The bench's generated snapshots (bench/workloads.ts) must be real input:
 * every workload shape, scaled down, decodes with verification on in both
 * forms to the same tree, whose ETags are the MD5s of the written bodies.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { bodyBytes, objectKey, objectSizeOf, writeWorkload, writeWorkloadGroups, type WorkloadSpec } from '../bench/workloads.js';
import { sameBytes } from './helpers/bytes.js';
import { readTree, runCli, tempDir, type ReadTree } from './e2e/harness.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest();

/** The shapes of (a)–(e), small: single-part, 8 parts, tiny objects, one object of many chunks, sizes from 0 to 4 KiB. */
const SHAPES: WorkloadSpec[] = [
  { id: 'a', title: 'small a', objects: 3, objectSize: 200_000, parts: 1, chunkSize: 65_536 },
  { id: 'b', title: 'small b', objects: 2, objectSize: 8 * 40_000, parts: 8, chunkSize: 16_384 },
  { id: 'c', title: 'small c', objects: 1_200, objectSize: 1024, parts: 1, chunkSize: 65_536 },
  { id: 'd', title: 'small d', objects: 1, objectSize: 1_000_000, parts: 1, chunkSize: 65_536 },
  { id: 'e', title: 'small e', objects: 1_200, objectSize: 4096, parts: 1, chunkSize: 65_536, variedSizes: true },
];

for (const w of SHAPES) {
  test(`bench workload (${w.id}) shape: fsm and JSONL decode with verification to the same tree, ETags = MD5 of the bodies`, async (t) => {
    const dir = tempDir(t);
    const trees: ReadTree[] = [];
    for (const form of ['fsm', 'jsonl'] as const) {
      const input = path.join(dir, `in.${form}`);
      const gen = writeWorkload(w, form, input);
      t.is(gen.bodyBytes, bodyBytes(w));
      const out = path.join(dir, `out-${form}`);
      const r = await runCli([input, '-o', out, '-q']);
      t.is(r.code, 0, r.stderr);
      trees.push(readTree(out));
    }
    const [fsm, jsonl] = trees as [ReadTree, ReadTree];
    if (w.variedSizes) {
      // Sizes spread over 0 … 4 KiB: empty objects and full ones among them.
      const sizes = Array.from({ length: w.objects }, (_, i) => objectSizeOf(w, i));
      t.true(sizes.includes(0) || Math.min(...sizes) < 64);
      t.true(Math.max(...sizes) > 4000);
      t.true(new Set(sizes).size > w.objects / 2);
    }
    const bodies = [...fsm.files.keys()].filter((p) => p.startsWith('s3/bench/data/') && !p.endsWith('.elastickv-meta.json'));
    t.deepEqual(bodies.sort(), Array.from({ length: w.objects }, (_, i) => `s3/bench/${objectKey(i)}`).sort());
    for (const p of bodies) {
      const body = fsm.files.get(p)!.data;
      t.is(body.length, objectSizeOf(w, Number(/obj-(\d+)/.exec(p)![1])), p);
      const etag = (JSON.parse(fsm.files.get(`${p}.elastickv-meta.json`)!.data.toString('utf8')) as { etag: string }).etag;
      if (w.parts === 1) {
        t.is(etag, md5(body).toString('hex'), p);
      } else {
        // Equal parts: H-N over the parts' MD5s.
        const size = w.objectSize / w.parts;
        const partMd5s = Array.from({ length: w.parts }, (_, k) => md5(body.subarray(k * size, (k + 1) * size)));
        t.is(etag, `${md5(Buffer.concat(partMd5s)).toString('hex')}-${w.parts}`, p);
      }
    }
    // Same files, same bytes (MANIFEST.json differs only in time and source path).
    t.deepEqual([...jsonl.files.keys()].sort(), [...fsm.files.keys()].sort());
    for (const [p, f] of fsm.files) if (p.startsWith('s3/')) sameBytes(t, jsonl.files.get(p)?.data, f.data, p);
  });
}

test('bench workload (a) split over 4 groups: 4 node snapshots whose merged dump is the one-input dump, no stale copies, catalog used', async (t) => {
  const w = { ...SHAPES[0]!, objects: 9 };
  const dir = tempDir(t);
  const one = writeWorkload(w, 'fsm', path.join(dir, 'one.fsm'));
  const split = writeWorkloadGroups(w, path.join(dir, 'groups'), 4);
  t.is(split.inputs.length, 4);
  t.is(split.bodyBytes, one.bodyBytes);
  t.is(split.records, one.records + 4); // + the 4 route records
  t.deepEqual(
    split.inputs.map((p) => path.relative(dir, p)),
    [1, 2, 3, 4].map((k) => `groups/group-${k}/${String(k).padStart(16, '0')}.fsm`),
  );
  const trees: ReadTree[] = [];
  for (const [name, args] of [
    ['one', [one.path]],
    ['four', split.inputs],
  ] as const) {
    const r = await runCli([...args, '-o', path.join(dir, `out-${name}`), '--log-format', 'json']);
    t.is(r.code, 0, r.stderr);
    t.notRegex(r.stderr, /"level":"warn"/);
    trees.push(readTree(path.join(dir, `out-${name}`)));
  }
  const [a, b] = trees as [ReadTree, ReadTree];
  t.deepEqual([...b.files.keys()].sort(), [...a.files.keys()].sort());
  for (const [p, f] of a.files) if (p.startsWith('s3/')) sameBytes(t, b.files.get(p)?.data, f.data, p);
  for (let i = 0; i < w.objects; i++) t.is(a.files.get(`s3/bench/${objectKey(i)}`)?.data.length, w.objectSize);
});
