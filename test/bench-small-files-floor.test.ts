/**
 * The bench's small-files floor (bench/small-files-floor.ts) must do the
 * file work it stands for, or its wall time means nothing: every blob's
 * value written as a body with its modification time, every manifest's as
 * a sidecar, each file listed with its SHA-256, the input's CRC-32C checked.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRecords, writeWorkload, type WorkloadSpec } from '../bench/workloads.js';
import { BLOB_PREFIX, MANIFEST_PREFIX } from '../lib/core/keys.js';
import { tempDir } from './e2e/harness.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bench/small-files-floor.js');
/** More objects than the small-file writer writes before it starts its thread (2000 files), over three directories. */
const W: WorkloadSpec = { id: 'c', title: 'small c', objects: 2_500, objectSize: 1024, parts: 1, chunkSize: 65_536 };

for (const [writers, twoPhase] of [[1, false], [2, false], [2, true]] as const) {
  test(`small-files floor, ${writers} writer thread(s)${twoPhase ? ', two phases' : ''}: object i's blob value is file i, its manifest value file i.elastickv-meta.json, in directory i / 1000, each in CHECKSUMS`, (t) => {
    const dir = tempDir(t);
    const input = path.join(dir, 'c.fsm');
    writeWorkload(W, 'fsm', input);
    const out = path.join(dir, 'out');
    const r = spawnSync(process.execPath, [SCRIPT, input, out, '--writers', String(writers), ...(twoPhase ? ['--two-phase'] : [])], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    t.like(JSON.parse(r.stdout), { files: 2 * W.objects + 1, bodies: W.objects, sidecars: W.objects });

    const bodies: Buffer[] = [];
    const manifests: Buffer[] = [];
    for (const rec of generateRecords(W)) {
      const key = rec.key.toString('latin1');
      if (key.startsWith(BLOB_PREFIX)) bodies.push(rec.value);
      else if (key.startsWith(MANIFEST_PREFIX)) manifests.push(rec.value);
    }
    t.is(bodies.length, W.objects);
    const expected = new Map<string, Buffer>();
    for (let i = 0; i < W.objects; i++) {
      const name = path.join(out, String(Math.floor(i / 1000)).padStart(4, '0'), String(i).padStart(6, '0'));
      expected.set(name, bodies[i]!);
      expected.set(`${name}.elastickv-meta.json`, manifests[i]!);
    }
    const written = fs.readdirSync(out, { recursive: true, encoding: 'utf8' }).map((f) => path.join(out, f));
    t.deepEqual(written.filter((f) => fs.statSync(f).isFile()).sort(), [...expected.keys(), path.join(out, 'CHECKSUMS')].sort());
    for (const [file, bytes] of expected) {
      if (!fs.readFileSync(file).equals(bytes)) t.fail(`${file}: not the record's value`);
    }
    t.is(fs.statSync(path.join(out, '0002', '002499')).mtimeMs, 1_700_000_000_000);
    const sums = fs.readFileSync(path.join(out, 'CHECKSUMS'), 'utf8').trimEnd().split('\n');
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    t.deepEqual(sums.sort(), [...expected].map(([f, b]) => `${sha(b)}  ${f}`).sort());
  });
}

test('small-files floor: an input whose CRC-32C footer does not match fails, exit 2, naming the input', (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'c.fsm');
  writeWorkload({ ...W, objects: 10 }, 'fsm', input);
  const bytes = fs.readFileSync(input);
  bytes[bytes.length - 10]! ^= 1;
  fs.writeFileSync(input, bytes);
  const r = spawnSync(process.execPath, [SCRIPT, input, path.join(dir, 'out')], { encoding: 'utf8' });
  t.is(r.status, 2);
  t.is(r.stderr.trim(), `${input}: CRC-32C footer does not match`);
});

test('small-files floor, two phases: an input whose CRC-32C footer does not match fails before any file is written', (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'c.fsm');
  writeWorkload({ ...W, objects: 10 }, 'fsm', input);
  const bytes = fs.readFileSync(input);
  bytes[bytes.length - 10]! ^= 1;
  fs.writeFileSync(input, bytes);
  const out = path.join(dir, 'out');
  const r = spawnSync(process.execPath, [SCRIPT, input, out, '--two-phase'], { encoding: 'utf8' });
  t.is(r.status, 2);
  t.is(r.stderr.trim(), `${input}: CRC-32C footer does not match`);
  t.false(fs.existsSync(out));
});

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
