/**
 * The bench's small-files floor (bench/small-files-floor.ts) must do the
 * file work it stands for, or its wall time means nothing: every blob's
 * value written as a body with its modification time, every manifest's as
 * a sidecar, each file listed with its SHA-256, the input's CRC-32C checked.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRecords, writeWorkload, type WorkloadSpec } from '../bench/workloads.js';
import { FsmEncoder } from '../lib/core/fsm-encoder.js';
import { BLOB_PREFIX, MANIFEST_PREFIX } from '../lib/core/keys.js';
import { tempDir } from './e2e/harness.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bench/small-files-floor.js');
/** More objects than the small-file writer writes before it starts its thread (2000 files), over three directories. */
const W: WorkloadSpec = { id: 'c', title: 'small c', objects: 2_500, objectSize: 1024, parts: 1, chunkSize: 65_536 };

type Rec = { key: Buffer; value: Buffer; commitTs: bigint };

/** Runs the floor on a native input of these records and checks every file it wrote, and nothing else, against them. */
function checkFloor(t: ExecutionContext, records: Rec[], args: string[]): void {
  const dir = tempDir(t);
  const input = path.join(dir, 'c.fsm');
  const enc = new FsmEncoder({ lastCommitTs: 1n << 40n, header: 'v1', ceiling: 1n << 40n });
  const pieces = [enc.preamble()];
  for (const r of records) pieces.push(...enc.entry({ ...r, tombstone: false }));
  pieces.push(enc.finish());
  fs.writeFileSync(input, Buffer.concat(pieces));
  const out = path.join(dir, 'out');
  const r = spawnSync(process.execPath, [SCRIPT, input, out, ...args], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);

  const bodies: Buffer[] = [];
  const manifests: Buffer[] = [];
  for (const rec of records) {
    const key = rec.key.toString('latin1');
    if (key.startsWith(BLOB_PREFIX)) bodies.push(rec.value);
    else if (key.startsWith(MANIFEST_PREFIX)) manifests.push(rec.value);
  }
  const objects = bodies.length;
  t.is(manifests.length, objects);
  t.like(JSON.parse(r.stdout), { files: 2 * objects + 1, bodies: objects, sidecars: objects });
  const expected = new Map<string, Buffer>();
  for (let i = 0; i < objects; i++) {
    const name = path.join(out, String(Math.floor(i / 1000)).padStart(4, '0'), String(i).padStart(6, '0'));
    expected.set(name, bodies[i]!);
    expected.set(`${name}.elastickv-meta.json`, manifests[i]!);
  }
  const written = fs.readdirSync(out, { recursive: true, encoding: 'utf8' }).map((f) => path.join(out, f));
  t.deepEqual(written.filter((f) => fs.statSync(f).isFile()).sort(), [...expected.keys(), path.join(out, 'CHECKSUMS')].sort());
  for (const [file, bytes] of expected) {
    if (!fs.readFileSync(file).equals(bytes)) t.fail(`${file}: not the record's value`);
  }
  const last = objects - 1;
  t.is(fs.statSync(path.join(out, String(Math.floor(last / 1000)).padStart(4, '0'), String(last).padStart(6, '0'))).mtimeMs, 1_700_000_000_000);
  const sums = fs.readFileSync(path.join(out, 'CHECKSUMS'), 'utf8').trimEnd().split('\n');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  t.deepEqual(sums.sort(), [...expected].map(([f, b]) => `${sha(b)}  ${f}`).sort());
}

for (const [writers, twoPhase] of [[1, false], [2, false], [2, true]] as const) {
  test(`small-files floor, ${writers} writer thread(s)${twoPhase ? ', two phases' : ''}: object i's blob value is file i, its manifest value file i.elastickv-meta.json, in directory i / 1000, each in CHECKSUMS`, (t) => {
    checkFloor(t, [...generateRecords(W)], ['--writers', String(writers), ...(twoPhase ? ['--two-phase'] : [])]);
  });
}

test('small-files floor, two phases: values larger than its 4 MiB read pieces are read back whole', (t) => {
  // Three objects whose blob values are 5 MiB each (the workload generator makes chunks of 1 MiB at most).
  const records = [...generateRecords({ ...W, objects: 3 })].map((r, i) => (r.key.toString('latin1').startsWith(BLOB_PREFIX) ? { ...r, value: randomBytes((5 << 20) + i) } : r));
  checkFloor(t, records, ['--two-phase']);
});

for (const twoPhase of [false, true]) {
  test(`small-files floor${twoPhase ? ', two phases' : ''}: an input whose CRC-32C footer does not match fails, exit 2, naming the input${twoPhase ? ', before any file is written' : ''}`, (t) => {
    const dir = tempDir(t);
    const input = path.join(dir, 'c.fsm');
    writeWorkload({ ...W, objects: 10 }, 'fsm', input);
    const bytes = fs.readFileSync(input);
    bytes[bytes.length - 10]! ^= 1;
    fs.writeFileSync(input, bytes);
    const out = path.join(dir, 'out');
    const r = spawnSync(process.execPath, [SCRIPT, input, out, ...(twoPhase ? ['--two-phase'] : [])], { encoding: 'utf8' });
    t.is(r.status, 2);
    t.is(r.stderr.trim(), `${input}: CRC-32C footer does not match`);
    // Written as read, the files come before the footer is checked; in two phases none does.
    if (twoPhase) t.false(fs.existsSync(out));
    else t.true(fs.existsSync(out));
  });
}

test('small-files floor: an input cut short fails, exit 2, naming the input and where it ends', (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'c.fsm');
  writeWorkload({ ...W, objects: 10 }, 'fsm', input);
  const bytes = fs.readFileSync(input);
  fs.writeFileSync(input, bytes.subarray(0, 1000));
  const r = spawnSync(process.execPath, [SCRIPT, input, path.join(dir, 'out')], { encoding: 'utf8' });
  t.is(r.status, 2);
  t.is(r.stderr.trim(), `${input}: truncated at byte 1000`);
});
