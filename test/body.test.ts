import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ObjectManifest } from '../lib/core/s3-schemas.js';
import type { ObjectPlan, PlannedPart } from '../lib/core/plan.js';
import { PositionedReader } from '../lib/io/positioned-reader.js';
import { chooseBody, runMd5s, streamBody, verifyBody } from '../lib/sinks/body.js';
import type { SealedRun, Span, SpillFile } from '../lib/types.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest();
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();
const CTX = { bucket: Buffer.from('b'), object: Buffer.from('o') };

function scratch(t: { teardown(fn: () => void): void }, name: string, bytes: string, kind: 'run' | 'pool', id: number): SpillFile {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-body-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return { id, path: p, kind };
}

function plan(etag: string, parts: Array<{ spans: Span[]; etag?: string; partNo?: number }>): ObjectPlan {
  const planned: PlannedPart[] = parts.map((p, i) => ({ partNo: BigInt(p.partNo ?? i + 1), version: 0n, offloaded: false, etag: p.etag ?? '', spans: p.spans, length: p.spans.reduce((n, s) => n + s.length, 0) }));
  return {
    key: Buffer.from('o'),
    relPath: Buffer.from('o'),
    manifest: { etag } as ObjectManifest,
    parts: planned,
    size: planned.reduce((n, p) => n + p.length, 0),
    sidecar: Buffer.alloc(0),
  };
}

const run = (file: SpillFile, size: number, parts: SealedRun['hashes']['parts'] = []): SealedRun => ({ file, size, hashes: { sha256: Buffer.alloc(32, 7), parts } });

test('chooseBody: spans that are exactly one whole sealed run, in order from offset 0, choose the run', (t) => {
  const file: SpillFile = { id: 3, path: '/x/run-3', kind: 'run' };
  const r = run(file, 5);
  const obj = plan('', [{ spans: [{ file, offset: 0, length: 2 }, { file, offset: 2, length: 3 }] }]);
  t.is(chooseBody(obj, new Map([[3, r]]), new Set()).run, r);
});

test('chooseBody: a run longer than the body, a gap, another file, an unsealed run or a used run means spans', (t) => {
  const file: SpillFile = { id: 3, path: '/x/run-3', kind: 'run' };
  const other: SpillFile = { id: 4, path: '/x/run-4', kind: 'run' };
  const spans: Span[] = [{ file, offset: 0, length: 2 }, { file, offset: 2, length: 3 }];
  const runs = new Map([[3, run(file, 5)], [4, run(other, 3)]]);
  t.is(chooseBody(plan('', [{ spans }]), new Map([[3, run(file, 9)]]), new Set()).run, undefined, 'longer');
  t.is(chooseBody(plan('', [{ spans: [spans[0]!, { file, offset: 3, length: 2 }] }]), runs, new Set()).run, undefined, 'gap');
  t.is(chooseBody(plan('', [{ spans: [spans[0]!, { file: other, offset: 2, length: 3 }] }]), runs, new Set()).run, undefined, 'two files');
  t.is(chooseBody(plan('', [{ spans }]), new Map(), new Set()).run, undefined, 'not sealed');
  t.is(chooseBody(plan('', [{ spans }]), runs, new Set([3])).run, undefined, 'used');
  const pool: SpillFile = { id: 3, path: '/x/pool', kind: 'pool' };
  t.is(chooseBody(plan('', [{ spans: [{ file: pool, offset: 0, length: 5 }] }]), runs, new Set()).run, undefined, 'pool');
  t.deepEqual(chooseBody(plan('', [{ spans }]), runs, new Set([3])).spans, spans);
});

test('streamBody: reads spans in order, SHA-256 of the whole, MD5 per part and of the body for a plain ETag; hands every byte over', async (t) => {
  const f = scratch(t, 'pool', 'xxHELLOyyWORLD', 'pool', 1);
  const parts = [{ spans: [{ file: f, offset: 2, length: 5 }] }, { spans: [{ file: f, offset: 9, length: 5 }] }];
  const got: Buffer[] = [];
  const reader = new PositionedReader();
  t.teardown(() => reader.close());
  const d = await streamBody(parts, reader, { md5: true, etag: md5('HELLOWORLD').toString('hex') }, async (b) => void got.push(Buffer.from(b)));
  t.is(Buffer.concat(got).toString(), 'HELLOWORLD');
  t.deepEqual(d.sha256, sha256('HELLOWORLD'));
  t.deepEqual(d.md5s, { parts: [md5('HELLO'), md5('WORLD')], body: md5('HELLOWORLD') });
  const noMd5 = await streamBody(parts, reader, { md5: false });
  t.is(noMd5.md5s, undefined);
  t.deepEqual(noMd5.sha256, sha256('HELLOWORLD'));
});

for (const [name, sizes] of [
  ['small bodies (read whole)', [3000, 0, 5000]],
  ['bodies above 64 KiB (read in pieces, across more than one 1 MiB buffer)', [70 * 1024, 0, 1100 * 1024]],
] as const) {
  test(`streamBody: ${name}: every byte handed over in order, SHA-256 of the whole, MD5 per part (an empty part too) and of the body`, async (t) => {
    const total = sizes.reduce((n, s) => n + s, 0);
    const bytes = Buffer.alloc(total + 10);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 9)) & 0xff;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-body-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const f: SpillFile = { id: 1, path: path.join(dir, 'pool'), kind: 'pool' };
    fs.writeFileSync(f.path, bytes);
    // Parts from offset 10 on, each of its size, each split into two spans where it has bytes.
    let at = 10;
    const parts = sizes.map((n) => {
      const half = Math.floor(n / 2);
      const spans: Span[] = n === 0 ? [] : [{ file: f, offset: at, length: half }, { file: f, offset: at + half, length: n - half }];
      at += n;
      return { spans };
    });
    const body = bytes.subarray(10);
    let off = 0;
    const partBytes = sizes.map((n) => body.subarray(off, (off += n)));
    const reader = new PositionedReader();
    t.teardown(() => reader.close());
    const got: Buffer[] = [];
    const d = await streamBody(parts, reader, { md5: true, etag: md5(body).toString('hex') }, async (b) => void got.push(Buffer.from(b)));
    t.true(Buffer.concat(got).equals(body));
    t.deepEqual(d.sha256, sha256(body));
    t.deepEqual(d.md5s, { parts: partBytes.map((b) => md5(b)), body: md5(body) });
    const composite = await streamBody(parts, reader, { md5: true, etag: 'x-3' });
    t.deepEqual(composite.md5s, { parts: partBytes.map((b) => md5(b)) });
    const one = await streamBody([{ spans: parts.flatMap((p) => p.spans) }], reader, { md5: true, etag: md5(body).toString('hex') });
    t.deepEqual(one.md5s, { parts: [md5(body)], body: md5(body) });
    const noMd5 = await streamBody(parts, reader, { md5: false });
    t.is(noMd5.md5s, undefined);
    t.deepEqual(noMd5.sha256, sha256(body));
  });
}

test('verifyBody: a plain ETag is MD5(body), H-N the MD5 of the part MD5s; a mismatch is an object-level ERR_S3_ETAG_MISMATCH', (t) => {
  const f: SpillFile = { id: 1, path: '/x', kind: 'pool' };
  const obj = plan(md5('ab').toString('hex'), [{ spans: [{ file: f, offset: 0, length: 2 }] }]);
  t.is(verifyBody(obj, { parts: [md5('ab')], body: md5('ab') }, CTX), null);
  const bad = verifyBody(obj, { parts: [md5('ab')], body: md5('ac') }, CTX);
  t.is(bad?.code, 'ERR_S3_ETAG_MISMATCH');
  t.is(bad?.level, 'object');
  const composite = createHash('md5').update(Buffer.concat([md5('a'), md5('b')])).digest('hex') + '-2';
  const multi = plan(composite, [
    { spans: [{ file: f, offset: 0, length: 1 }], etag: md5('a').toString('hex') },
    { spans: [{ file: f, offset: 1, length: 1 }], etag: md5('b').toString('hex') },
  ]);
  t.is(verifyBody(multi, { parts: [md5('a'), md5('b')] }, CTX), null);
  t.is(verifyBody(multi, { parts: [md5('a'), md5('c')] }, CTX)?.code, 'ERR_S3_ETAG_MISMATCH');
});

test('runMd5s: part MD5s come from the run stretches (an empty part gets MD5 of nothing); a multipart run with a plain ETag is hashed from its file', async (t) => {
  const f = scratch(t, 'run-1', 'aabbb', 'run', 1);
  const r = run(f, 5, [
    { partNo: 1n, partVersion: 0n, length: 2, md5: md5('aa') },
    { partNo: 3n, partVersion: 0n, length: 3, md5: md5('bbb') },
  ]);
  const parts = [{ spans: [{ file: f, offset: 0, length: 2 }] }, { spans: [] as Span[] }, { spans: [{ file: f, offset: 2, length: 3 }], partNo: 3 }];
  const reader = new PositionedReader();
  t.teardown(() => reader.close());
  t.deepEqual(await runMd5s(plan('deadbeef-3', parts), r, reader), { parts: [md5('aa'), md5(''), md5('bbb')] });
  t.deepEqual(await runMd5s(plan(md5('aabbb').toString('hex'), parts), r, reader), { parts: [md5('aa'), md5(''), md5('bbb')], body: md5('aabbb') });
  const single = run(f, 5, [{ partNo: 1n, partVersion: 0n, length: 5, md5: md5('whatever-the-run-says') }]);
  t.deepEqual((await runMd5s(plan(md5('x').toString('hex'), [{ spans: [{ file: f, offset: 0, length: 5 }] }]), single, reader)).body, md5('whatever-the-run-says'), 'one stretch: its MD5 is the body MD5, no read');
});
