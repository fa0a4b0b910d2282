import test from 'ava';
import { LineFramer } from '../lib/core/line-framer.js';

function frame(chunks: Buffer[], reuse = false): string[] {
  const f = new LineFramer({ reuse });
  const lines: string[] = [];
  for (const c of chunks) f.write(c, (l) => lines.push(l.toString('latin1')));
  f.end((l) => lines.push(l.toString('latin1')));
  return lines;
}

const input = Buffer.from('first\n\nthird line\r\nlast-without-newline');
const expected = ['first', '', 'third line\r', 'last-without-newline'];

test('lines are the same wherever the input is split (every one- and two-cut split)', (t) => {
  t.deepEqual(frame([input]), expected);
  for (let i = 0; i <= input.length; i++) {
    for (const reuse of [false, true]) {
      t.deepEqual(frame([input.subarray(0, i), input.subarray(i)], reuse), expected, `cut at ${i}`);
      for (let j = i; j <= input.length; j++) {
        t.deepEqual(frame([input.subarray(0, i), input.subarray(i, j), input.subarray(j)], reuse), expected, `cuts at ${i}, ${j}, reuse ${reuse}`);
      }
    }
  }
});

test('byte-at-a-time input gives the same lines; a trailing newline adds no empty line', (t) => {
  t.deepEqual(frame([...input].map((b) => Buffer.from([b]))), expected);
  t.deepEqual(frame([Buffer.from('a\nb\n')]), ['a', 'b']);
  t.deepEqual(frame([]), []);
});

test('a line inside one chunk is a view of it (no copy); a line across chunks is joined once', (t) => {
  const chunk = Buffer.from('abc\ndef');
  const f = new LineFramer();
  const got: Buffer[] = [];
  f.write(chunk, (l) => got.push(l));
  f.write(Buffer.from('gh\n'), (l) => got.push(l));
  chunk.fill(0x78);
  t.is(got[0]!.toString(), 'xxx', 'a view: sees the change to the chunk');
  t.is(got[1]!.toString(), 'defgh', 'a copy: does not');
});

test('reuse: lines across chunks are joined in one buffer the framer keeps, each valid during its callback', (t) => {
  const f = new LineFramer({ reuse: true });
  const seen: Array<{ text: string; buffer: ArrayBufferLike }> = [];
  const on = (l: Buffer) => seen.push({ text: l.toString('latin1'), buffer: l.buffer });
  for (const c of ['ab', 'cd\nlonger-', 'line\nx', 'y\n', 'tail', '-end']) f.write(Buffer.from(c), on);
  f.end(on);
  t.deepEqual(
    seen.map((s) => s.text),
    ['abcd', 'longer-line', 'xy', 'tail-end'],
  );
  t.true(seen.every((s) => s.buffer === seen[0]!.buffer), 'one buffer for every joined line');
});
