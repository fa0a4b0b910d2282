import test from 'ava';
import { looksLikeFsm } from '../lib/core/fsm-format.js';

test('looksLikeFsm', (t) => {
  for (const s of ['EKVPBBL1', 'EKVSSTI1', 'EKVTHLC1', 'EKVTHLC2', 'EKVTHLC9', 'EKVTHLC', 'EKVPBBL1xxxx']) t.true(looksLikeFsm(Buffer.from(s)), s);
  for (const s of ['', 'EKVPBBL', '{"key":"', 'EKVPBBL2', 'ekvpbbl1']) t.false(looksLikeFsm(Buffer.from(s)), s);
});
