/**
 * The bench's Node pipeline floor (bench/pipeline-floor.ts) must do the
 * work it stands for, or its wall time means nothing: every input byte
 * written in place, one file per object, CRC-32C'd and hashed.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32cJs } from '../lib/core/crc32c.js';
import { tempDir } from './e2e/harness.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bench/pipeline-floor.js');

// Several objects with MD5: from their files side by side (the default; 9: 8 in lanes, then 1 alone), or as written.
for (const [objects, md5, ...flags] of [[1, false], [1, true], [9, true], [3, true, '--md5-as-written'], [4, false]] as const) {
  test(`pipeline floor, ${objects} object(s)${md5 ? ', with MD5' : ''}${flags.map((f) => ` ${f}`).join('')}: the objects' files are the input cut in order, and the CRC-32C and digests are the input's and the objects'`, (t) => {
    const dir = tempDir(t);
    const input = path.join(dir, 'in.bin');
    // Not a multiple of the 4 MiB read nor of the object count: short last pieces.
    const bytes = randomBytes(9 * 1024 * 1024 + 12345);
    fs.writeFileSync(input, bytes);
    const out = path.join(dir, 'out');
    const r = spawnSync(process.execPath, [SCRIPT, input, out, '--objects', String(objects), ...(md5 ? ['--md5'] : []), ...flags], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { bytes: number; crc: number; md5FromFiles: boolean; digests: Record<string, string[]> };
    t.is(report.bytes, bytes.length);
    t.is(report.md5FromFiles, md5 && objects > 1 && flags.length === 0);
    t.is(report.crc, crc32cJs(bytes) >>> 0);
    const files = Array.from({ length: objects }, (_, i) => fs.readFileSync(path.join(out, `object-${i}`)));
    t.deepEqual(fs.readdirSync(out).sort(), files.map((_, i) => `object-${i}`).sort());
    const size = Math.ceil(bytes.length / objects);
    files.forEach((f, i) => t.true(f.equals(bytes.subarray(i * size, (i + 1) * size)), `object ${i}`));
    const hex = (algorithm: string) => files.map((f) => createHash(algorithm).update(f).digest('hex'));
    t.deepEqual(report.digests, md5 ? { sha256: hex('sha256'), md5: hex('md5') } : { sha256: hex('sha256') });
  });
}

/** A JSON-lines snapshot by hand: blob lines of `chunk`-byte values, in order, with other lines between them. */
function jsonlOf(body: Buffer, chunk: number, trailingNewline: boolean): string {
  const key = (s: string) => Buffer.from(s).toString('base64');
  const lines = [`{"key":"${key('!s3|bucket|meta|b')}","value":"${key('{}')}"}`];
  for (let at = 0, n = 0; at < body.length; at += chunk, n++) {
    lines.push(`{"key":"${key(`!s3|blob|b/o/${n}`)}","value":"${body.subarray(at, at + chunk).toString('base64')}","commit_ts":${n + 1}}`);
    // A line whose key is not a blob's, though its value would decode.
    if (n % 3 === 1) lines.push(`{"key":"${key('!s3|obj|head|b/o')}","value":"${key('not a body')}"}`);
  }
  return lines.join('\n') + (trailingNewline ? '\n' : '');
}

for (const [objects, md5, trailingNewline] of [[1, true, true], [3, true, false], [3, false, true]] as const) {
  test(`pipeline floor, JSON lines, ${objects} object(s)${md5 ? ', with MD5' : ''}${trailingNewline ? '' : ', no newline at the end'}: the objects' files are the blob values decoded in order, and the digests are the objects'`, (t) => {
    const dir = tempDir(t);
    const input = path.join(dir, 'in.jsonl');
    // 1 MiB values (lines of ~1.4 MB): the 4 MiB reads cut lines; 9 values make 3 objects of 3 each.
    const chunk = 1 << 20;
    const body = randomBytes(9 * chunk);
    fs.writeFileSync(input, jsonlOf(body, chunk, trailingNewline));
    const out = path.join(dir, 'out');
    const r = spawnSync(process.execPath, [SCRIPT, input, out, '--objects', String(objects), '--jsonl', String(body.length), ...(md5 ? ['--md5'] : [])], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { bytes: number; crc: number | null; digests: Record<string, string[]> };
    t.is(report.bytes, body.length);
    t.is(report.crc, null);
    const size = body.length / objects;
    const files = Array.from({ length: objects }, (_, i) => fs.readFileSync(path.join(out, `object-${i}`)));
    t.is(fs.readdirSync(out).length, objects);
    files.forEach((f, i) => t.true(f.equals(body.subarray(i * size, (i + 1) * size)), `object ${i}`));
    const hex = (algorithm: string) => files.map((f) => createHash(algorithm).update(f).digest('hex'));
    t.deepEqual(report.digests, md5 ? { sha256: hex('sha256'), md5: hex('md5') } : { sha256: hex('sha256') });
  });
}

test('pipeline floor, JSON lines: blob values short of BODY_BYTES fail the run, naming the shortfall', (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'in.jsonl');
  fs.writeFileSync(input, jsonlOf(randomBytes(3000), 1000, true));
  const r = spawnSync(process.execPath, [SCRIPT, input, path.join(dir, 'out'), '--jsonl', '4000'], { encoding: 'utf8' });
  t.not(r.status, 0);
  t.regex(r.stderr, /input ended 1000 bytes short of its 4000/);
});
