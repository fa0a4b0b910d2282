import test from 'ava';
import { buildFsm, buildFsmPreamble, type BuildFsmOptions } from './helpers/fsm.js';
import { ENTRIES, expectError, run } from './helpers/fsm-decode.js';

test('a good footer is accepted and a bad one is ERR_SNAPSHOT_CRC_MISMATCH at the footer offset', (t) => {
  const good = buildFsm(ENTRIES, { header: 'v1', footer: true });
  t.true(run(good).ok);
  for (let bit = 0; bit < 32; bit++) {
    const bad = Buffer.from(good);
    bad[bad.length - 4 + (bit >> 3)]! ^= 1 << (bit & 7);
    expectError(t, bad, 'ERR_SNAPSHOT_CRC_MISMATCH', good.length - 4, /CRC-32C/);
  }
  // A flipped byte in the header (covered by the CRC) is caught too.
  const hdr = Buffer.from(good);
  hdr[9]! ^= 0x40;
  expectError(t, hdr, 'ERR_SNAPSHOT_CRC_MISMATCH', good.length - 4);
  // A flipped byte in a value body.
  const body = Buffer.from(good);
  body[good.length - 10]! ^= 1;
  expectError(t, body, 'ERR_SNAPSHOT_CRC_MISMATCH', good.length - 4);
});

test('footer split across chunks at every position still matches', (t) => {
  const good = buildFsm(ENTRIES, { header: 'v2', footer: true });
  const bad = Buffer.from(good);
  bad[bad.length - 1]! ^= 0x80;
  const f = good.length - 4;
  const cutSets = [[f - 1], [f], [f + 1], [f + 2], [f + 3], [f + 1, f + 2, f + 3], [f - 2, f + 1], [f - 5, f + 3], [f - 3, f - 1, f + 2]];
  for (const cuts of cutSets) {
    const ok = run(good, cuts);
    t.true(ok.ok, `cuts ${cuts.join(',')}`);
    if (ok.ok) t.true(ok.footer);
    expectError(t, bad, 'ERR_SNAPSHOT_CRC_MISMATCH', f, undefined, cuts);
  }
});

test('verifyCrc: false accepts a bad footer but still recognises it', (t) => {
  const bad = buildFsm(ENTRIES, { footer: true });
  bad[bad.length - 1]! ^= 1;
  const out = run(bad, [], { verifyCrc: false });
  t.true(out.ok);
  if (out.ok) t.true(out.footer);
});

test('a footer right after the preamble (no entries)', (t) => {
  for (const header of [undefined, 'v1', 'v2'] as const) {
    const opts: BuildFsmOptions = header ? { header, footer: true } : { footer: true };
    const input = buildFsm([], opts);
    const out = run(input);
    t.true(out.ok, out.ok ? '' : out.message);
    if (out.ok) t.deepEqual(out.records, []);
    const bad = Buffer.from(input);
    bad[0 + buildFsmPreamble(opts).length]! ^= 1;
    expectError(t, bad, 'ERR_SNAPSHOT_CRC_MISMATCH', buildFsmPreamble(opts).length);
  }
});
