import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DecodeError } from '../lib/errors.js';
import { INNER_STAGING_PREFIX, publishInto } from '../lib/io/output-dir.js';

function setup(t: { teardown: (f: () => void) => void }): { dir: string; staging: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-publish-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const staging = path.join(dir, `${INNER_STAGING_PREFIX}abc`);
  fs.mkdirSync(path.join(staging, 's3', 'b'), { recursive: true });
  fs.writeFileSync(path.join(staging, 's3', 'b', 'k'), 'body');
  fs.writeFileSync(path.join(staging, 'MANIFEST.json'), '{}\n');
  fs.writeFileSync(path.join(staging, 'CHECKSUMS'), 'sums\n');
  return { dir, staging };
}

test('publishInto moves every entry up into DIR and removes the staging directory', async (t) => {
  const { dir } = setup(t);
  await publishInto(path.join(dir, `${INNER_STAGING_PREFIX}abc`), dir);
  t.deepEqual(fs.readdirSync(dir).sort(), ['CHECKSUMS', 'MANIFEST.json', 's3']);
  t.is(fs.readFileSync(path.join(dir, 's3', 'b', 'k'), 'utf8'), 'body');
  t.is(fs.readFileSync(path.join(dir, 'CHECKSUMS'), 'utf8'), 'sums\n');
});

test('publishInto refuses a DIR that is no longer empty and moves nothing', async (t) => {
  const { dir, staging } = setup(t);
  fs.writeFileSync(path.join(dir, 'intruder'), 'x');
  const err = await t.throwsAsync(publishInto(staging, dir));
  t.true(err instanceof DecodeError && err.code === 'ERR_IO', String(err));
  t.regex(err?.message ?? '', /no longer empty.*intruder/);
  t.deepEqual(fs.readdirSync(dir).sort(), [`${INNER_STAGING_PREFIX}abc`, 'intruder']);
  t.deepEqual(fs.readdirSync(staging).sort(), ['CHECKSUMS', 'MANIFEST.json', 's3']);
});
