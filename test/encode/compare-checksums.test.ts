/**
 * The self-test's comparison of two CHECKSUMS lists (lib/encode/compare-checksums.ts):
 * sorted lists are walked side by side, anything else goes through the
 * sort, and both give the same differences in path order.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareChecksums, compareSorted, MAX_DIFFERENCES } from '../../lib/encode/compare-checksums.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** A sha256sum line; a path with '\n' or '\\' in the escaped form. */
function line(p: string, sha: string): string {
  return /[\n\\]/.test(p) ? `\\${sha}  ${p.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n` : `${sha}  ${p}\n`;
}

function lists(t: import('ava').ExecutionContext, input: [string, string][], decoded: [string, string][]) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-compare-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  fs.writeFileSync(path.join(d, 'in'), input.map(([p, s]) => line(p, s)).join(''));
  fs.writeFileSync(path.join(d, 'out'), decoded.map(([p, s]) => line(p, s)).join(''));
  return { input: path.join(d, 'in'), decoded: path.join(d, 'out'), scratch: d };
}

const input: [string, string][] = [
  ['MANIFEST.json', A],
  ['s3/b/_bucket.json', A],
  ['s3/b/gone', A],
  ['s3/b/gone.elastickv-meta.json', A],
  ['s3/b/same', A],
  ['s3/b/x', A],
];
const decoded: [string, string][] = [
  ['MANIFEST.json', B],
  ['s3/b/_bucket.json', A],
  ['s3/b/new', B],
  ['s3/b/same', A],
  ['s3/b/x', B],
];
const expected = [
  's3/b/gone: missing after the round trip',
  's3/b/gone.elastickv-meta.json: missing after the round trip',
  's3/b/new: appears only after the round trip',
  's3/b/x: content differs after the round trip',
];

test('identical lists but MANIFEST.json: no difference', async (t) => {
  const same = input.slice(1);
  t.deepEqual(await compareChecksums(lists(t, [['MANIFEST.json', A], ...same], [['MANIFEST.json', B], ...same])), []);
});

test('missing, new and changed paths are reported in path order', async (t) => {
  const o = lists(t, input, decoded);
  t.deepEqual(await compareSorted(o), expected);
  t.deepEqual(await compareChecksums(o), expected);
});

test('a list out of order is not walked, and is compared through the sort with the same result', async (t) => {
  const o = lists(t, [...input].reverse(), decoded);
  t.is(await compareSorted(o), undefined);
  t.deepEqual(await compareChecksums(o), expected);
  const p = lists(t, input, [...decoded].reverse());
  t.is(await compareSorted(p), undefined);
  t.deepEqual(await compareChecksums(p), expected);
});

test('order is bytewise on the unescaped path, not JavaScript string order', async (t) => {
  // UTF-8 EF BC 81 (U+FF01) sorts before F0 9F 98 80 (U+1F600); as UTF-16, D83D comes first.
  // "a\nb" sorts before "a0" ('\n' < '0') though its escaped line "a\\nb" would not.
  const sorted: [string, string][] = [['a\nb', A], ['a0', A], ['\uFF01', A], ['\u{1F600}', A]];
  const o = lists(t, sorted, [...sorted.slice(0, 3), ['\u{1F600}', B]]);
  t.deepEqual(await compareSorted(o), ['\u{1F600}: content differs after the round trip']);
  const escaped = lists(t, [['a\nb', A]], [['a\nb', B]]);
  t.deepEqual(await compareSorted(escaped), ['a\\x0ab: content differs after the round trip']);
});

test('ignored paths are left out on both sides', async (t) => {
  const o = { ...lists(t, input, decoded), ignore: (p: Buffer) => p.toString().startsWith('s3/b/gone') || p.toString() === 's3/b/new' };
  t.deepEqual(await compareChecksums(o), ['s3/b/x: content differs after the round trip']);
});

test('a path listed twice is judged by its first line', async (t) => {
  const o = lists(t, [['p', A], ['p', B], ['q', A]], [['p', A], ['q', A], ['q', B]]);
  t.deepEqual(await compareSorted(o), []);
});

test(`at most ${MAX_DIFFERENCES} differences, the first in path order, either way`, async (t) => {
  const many: [string, string][] = Array.from({ length: 50 }, (_, i) => [`k${String(i).padStart(2, '0')}`, A]);
  const want = many.slice(0, MAX_DIFFERENCES).map(([p]) => `${p}: missing after the round trip`);
  t.deepEqual(await compareChecksums(lists(t, many, [])), want);
  t.deepEqual(await compareChecksums(lists(t, [...many].reverse(), [])), want);
});

test('a line that is not a checksum line is an error naming the file and line', async (t) => {
  const o = lists(t, input, decoded);
  fs.appendFileSync(o.decoded, 'nonsense\n');
  await t.throwsAsync(compareChecksums(o), { message: `${o.decoded}: line 6: not a "<sha256>  <path>" line` });
});
