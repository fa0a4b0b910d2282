import test from 'ava';
import { supersedes } from '../lib/core/newest-wins.js';

test('a higher commit_ts replaces what is held, a lower one does not', (t) => {
  t.true(supersedes(2n, 1n));
  t.false(supersedes(1n, 2n));
  t.true(supersedes(0xffffffffffffffffn, 0n));
  t.false(supersedes(0n, 0xffffffffffffffffn));
});

test('on equal commit_ts the later record (the candidate) wins', (t) => {
  t.true(supersedes(5n, 5n));
  t.true(supersedes(0n, 0n));
});
