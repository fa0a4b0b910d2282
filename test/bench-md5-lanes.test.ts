/**
 * bench/md5-lanes.ts compares MD5 side by side with node:crypto on a file;
 * its report is only worth something if it hashed the file it names, cut
 * as asked, and both ways agree.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './e2e/harness.js';

const MiB = 1 << 20;

test('md5-lanes command: cuts the file into streams and reports digests that agree', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'in.bin');
  fs.writeFileSync(file, randomBytes(5 * MiB + 333));
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bench/md5-lanes.js');
  const r = spawnSync(process.execPath, [script, file, '--streams', '7', '--sets', '1'], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.split('\n')[0]!) as { bytes: number; streams: number; lanes: number; agree: boolean };
  t.like(report, { bytes: 5 * MiB + 333, streams: 7, lanes: 4, agree: true });
});
