import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openClusterMerge } from '../lib/cluster/merge.js';
import { DecodeError } from '../lib/errors.js';
import { LocalStore } from '../lib/store/local-store.js';
import { offloadInputs } from '../lib/store/offload.js';
import { goTimeCanonical, parseOffloadManifest } from '../lib/store/offload-manifest.js';
import type { ClusterInput } from '../lib/cluster/input.js';
import { offloadManifestText, offloadPayload, writeOffloadStore, type OffloadSnapshot } from './helpers/cluster.js';
import { buildFsm, testCrc32c } from './helpers/fsm.js';
import { SnapshotBuilder } from './helpers/snapshot.js';

// SPEC §11 --from-offload (local directory store): manifest selection, the
// self-hash, and the payload's bytes / SHA-256 / CRC32C checked while it is decoded.

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-offload-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const payload = (name: string): Buffer => offloadPayload(new SnapshotBuilder().bucket('bkt').putObject('bkt', name, Buffer.from(`body of ${name}`)));

async function readAll(inputs: ClusterInput[]): Promise<number> {
  const merge = await openClusterMerge(inputs);
  let n = 0;
  for await (const _ of merge) n++;
  return n;
}

test('a Go-canonical manifest passes its self-hash; any edit that changes the canonical form fails it', (t) => {
  const s: OffloadSnapshot = { groupId: 3, index: 10, term: 2, payload: payload('a') };
  const m = parseOffloadManifest(Buffer.from(offloadManifestText(s)), 'm.json');
  t.is(m.groupId, 3n);
  t.is(m.snapshotIndex, 10n);
  t.is(m.payload.bytes, BigInt(s.payload.length));
  // Re-indenting or adding unknown fields does not change what Go re-serializes.
  t.notThrows(() => parseOffloadManifest(Buffer.from(offloadManifestText(s).replace(/\n {2}/g, '\n\t').replace('{', '{"x-unknown": [1],')), 'm.json'));
  for (const tamper of [(x: string) => x.replace('"snapshot_term": 2', '"snapshot_term": 3'), (x: string) => x.replace('test-cluster', 'other')]) {
    const err = t.throws(() => parseOffloadManifest(Buffer.from(offloadManifestText(s, tamper)), 'm.json'), { instanceOf: DecodeError });
    t.is(err?.code, 'ERR_OFFLOAD_MANIFEST');
    t.regex(err?.message ?? '', /self-hash mismatch/);
  }
});

test('schema_version other than 1, bad JSON and bad payload digests are ERR_OFFLOAD_MANIFEST', (t) => {
  const s: OffloadSnapshot = { groupId: 1, index: 1, term: 1, payload: payload('a') };
  for (const tamper of [(x: string) => x.replace('"schema_version": 1', '"schema_version": 2'), (x: string) => x.slice(0, 40), (x: string) => x.replace(/"sha256": "[0-9a-f]+"/, '"sha256": "XYZ"')]) {
    t.is(t.throws(() => parseOffloadManifest(Buffer.from(offloadManifestText(s, tamper)), 'm.json'), { instanceOf: DecodeError })?.code, 'ERR_OFFLOAD_MANIFEST');
  }
});

test('created_at is re-serialized as Go prints a time.Time', (t) => {
  t.is(goTimeCanonical('2026-04-29T12:34:56.500000000Z'), '2026-04-29T12:34:56.5Z');
  t.is(goTimeCanonical('2026-04-29T12:34:56.000Z'), '2026-04-29T12:34:56Z');
  t.is(goTimeCanonical('2026-04-29T12:34:56+00:00'), '2026-04-29T12:34:56Z');
  t.is(goTimeCanonical('2026-04-29T12:34:56.120+09:00'), '2026-04-29T12:34:56.12+09:00');
  t.is(goTimeCanonical('2026-02-30T12:34:56Z'), undefined);
  t.is(goTimeCanonical('2026-04-29 12:34:56Z'), undefined);
});

test('per group the manifest with the highest (index, term) is used; ids and indexes come from it; --group selects', async (t) => {
  const root = tmp(t);
  writeOffloadStore(root, [
    { groupId: 1, index: 120, term: 2, payload: payload('old') },
    { groupId: 1, index: 200, term: 3, payload: payload('new') },
    { groupId: 1, index: 200, term: 2, payload: payload('lower-term') },
    { groupId: 2, index: 90, term: 1, payload: payload('two') },
  ]);
  fs.writeFileSync(path.join(root, 'v1', 'groups', '1', 'snapshots', 'notes.txt'), 'decoy');
  const store = new LocalStore(root);
  const inputs = await offloadInputs(store);
  t.deepEqual(
    inputs.map((i) => [i.groupId, i.snapshotIndex, path.basename(i.path)]),
    [
      [1n, 200n, `${(await import('node:crypto')).createHash('sha256').update(payload('new')).digest('hex')}.fsm`],
      [2n, 90n, path.basename(inputs[1]!.path)],
    ],
  );
  t.true(await readAll(inputs) > 0);
  t.deepEqual(
    (await offloadInputs(store, { groups: [2n] })).map((i) => i.groupId),
    [2n],
  );
  t.is((await t.throwsAsync(offloadInputs(store, { groups: [7n] }), { instanceOf: DecodeError }))?.code, 'ERR_OFFLOAD_MANIFEST');
});

test('a store without manifests is ERR_OFFLOAD_MANIFEST', async (t) => {
  t.is((await t.throwsAsync(offloadInputs(new LocalStore(tmp(t))), { instanceOf: DecodeError }))?.code, 'ERR_OFFLOAD_MANIFEST');
});

test('payload checks: byte count, SHA-256 and CRC32C (of every byte, or before the footer) must match', async (t) => {
  const good = payload('x');
  const flip = Buffer.from(good);
  flip[flip.length - 2] = flip[flip.length - 2]! ^ 0xff; // inside the last value body: still decodes
  const footed = buildFsm(new SnapshotBuilder().bucket('bkt').putObject('bkt', 'f', Buffer.from('f')).records(), { sort: true, header: 'v1', footer: true });
  const cases: Array<[string, OffloadSnapshot, RegExp | null]> = [
    ['good', { groupId: 1, index: 1, term: 1, payload: good }, null],
    ['footer kept: CRC of the bytes before it', { groupId: 1, index: 1, term: 1, payload: footed, sourceCrc32c: testCrc32c(footed.subarray(0, -4)) }, null],
    ['CRC not recorded', { groupId: 1, index: 1, term: 1, payload: good, sourceCrc32c: 0 }, null],
    ['sha differs', { groupId: 1, index: 1, term: 1, payload: flip, payloadSha256: (await import('node:crypto')).createHash('sha256').update(good).digest('hex'), sourceCrc32c: testCrc32c(flip) }, /SHA-256/],
    ['crc differs', { groupId: 1, index: 1, term: 1, payload: good, sourceCrc32c: (testCrc32c(good) ^ 1) >>> 0 }, /CRC32C/],
    ['longer than declared', { groupId: 1, index: 1, term: 1, payload: good, payloadBytes: good.length - 1 }, /longer/],
    ['shorter than declared', { groupId: 1, index: 1, term: 1, payload: good, payloadBytes: good.length + 1 }, /bytes, the manifest says/],
  ];
  for (const [what, s, fails] of cases) {
    const root = tmp(t);
    writeOffloadStore(root, [s]);
    if (s.payloadSha256) {
      // The manifest names the good payload's digest: put the altered bytes at that key.
      const p = path.join(root, 'v1', 'payloads', 'sha256', s.payloadSha256.slice(0, 2), `${s.payloadSha256}.fsm`);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, s.payload);
    }
    const run = readAll(await offloadInputs(new LocalStore(root)));
    if (fails === null) {
      t.true((await run) > 0, what);
    } else {
      const err = await t.throwsAsync(run, { instanceOf: DecodeError }, what);
      t.is(err?.code, 'ERR_OFFLOAD_INTEGRITY', what);
      t.regex(err?.message ?? '', fails, what);
    }
  }
});

test('LocalStore: list in key order under a prefix, get and getRange', async (t) => {
  const root = tmp(t);
  for (const k of ['v1/b/2', 'v1/b/10', 'v1/a', 'other']) {
    fs.mkdirSync(path.dirname(path.join(root, k)), { recursive: true });
    fs.writeFileSync(path.join(root, k), `data:${k}`);
  }
  const store = new LocalStore(root);
  const listed = [];
  for await (const o of store.list('v1/')) listed.push([o.key, o.size]);
  t.deepEqual(listed, [
    ['v1/a', 'data:v1/a'.length],
    ['v1/b/10', 'data:v1/b/10'.length],
    ['v1/b/2', 'data:v1/b/2'.length],
  ]);
  const text = async (p: Promise<NodeJS.ReadableStream>): Promise<string> => {
    let s = '';
    for await (const c of await p) s += String(c);
    return s;
  };
  t.is(await text(store.get('v1/b/2')), 'data:v1/b/2');
  t.is(await text(store.getRange('v1/b/2', 5, 7)), 'v1');
  t.is((await t.throwsAsync(store.get('v1/missing'), { instanceOf: DecodeError }))?.code, 'ERR_IO');
});
