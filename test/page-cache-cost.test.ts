import test from 'ava';
import { COSTLY_SYSTEM_S_PER_GIB, PageCacheCost } from '../lib/io/page-cache-cost.js';

const MiB = 1 << 20;
const GiB = 1 << 30;

/** A PageCacheCost whose process system time is what the test sets. */
function probe(opts: { costlyPerGiB?: number; skipBytes?: number; windowBytes?: number } = {}) {
  const clock = { system: 0 };
  const cost = new PageCacheCost({ skipBytes: 4 * MiB, windowBytes: 8 * MiB, ...opts, systemSeconds: () => clock.system });
  return { cost, clock };
}

test('the default threshold is 1.5 s of system time per GiB', (t) => {
  t.is(COSTLY_SYSTEM_S_PER_GIB, 1.5);
});

test('a window whose system time per GiB is over the threshold makes writing through the page cache costly', (t) => {
  const { cost, clock } = probe();
  t.false(cost.wrote(4 * MiB)); // skipped: the window starts here, at system 0
  clock.system = (1.6 * 8 * MiB) / GiB; // 1.6 s per GiB over the next 8 MiB
  t.false(cost.wrote(7 * MiB), 'judged only once the window is full');
  t.true(cost.wrote(1 * MiB));
  t.true(cost.costly);
});

test('a window at or under the threshold is not costly; each window is judged on its own system time', (t) => {
  const { cost, clock } = probe();
  cost.wrote(4 * MiB);
  clock.system = (1.5 * 8 * MiB) / GiB; // exactly the threshold
  t.false(cost.wrote(8 * MiB));
  // The next window: system time since the last one only (0.5 s per GiB), though the run's average is higher than that.
  clock.system += (0.5 * 8 * MiB) / GiB;
  t.false(cost.wrote(8 * MiB));
  t.false(cost.costly);
});

test('system time spent before the skipped bytes were written does not count', (t) => {
  const { cost, clock } = probe();
  clock.system = 10; // start-up
  t.false(cost.wrote(2 * MiB));
  clock.system = 20; // still skipping: not measured
  t.false(cost.wrote(2 * MiB));
  clock.system = 20 + (1.0 * 8 * MiB) / GiB;
  t.false(cost.wrote(8 * MiB));
});

test('once costly it stays costly, whatever later windows cost', (t) => {
  const { cost, clock } = probe({ skipBytes: 0 });
  t.false(cost.wrote(0));
  clock.system = 1;
  t.true(cost.wrote(8 * MiB));
  t.true(cost.wrote(64 * MiB));
  t.true(cost.costly);
});

test('the window ends where the write that fills it ends: its system time is spread over all of its bytes', (t) => {
  const { cost, clock } = probe({ skipBytes: 0, windowBytes: 8 * MiB });
  cost.wrote(0);
  // One 16 MiB write fills the window twice over: 2.0 s per GiB of 8 MiB is 1.0 per GiB of 16.
  clock.system = (2.0 * 8 * MiB) / GiB;
  t.false(cost.wrote(16 * MiB));
});
