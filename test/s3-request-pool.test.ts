import test from 'ava';
import { RequestPool } from '../lib/s3/request-pool.js';

const tick = () => new Promise<void>((r) => setTimeout(r, 5));

test('never more than limit running; start() resolves once started, done when finished', async (t) => {
  const pool = new RequestPool(2);
  let running = 0;
  let peak = 0;
  const releases: Array<() => void> = [];
  const job = () =>
    new Promise<number>((resolve) => {
      running++;
      peak = Math.max(peak, running);
      releases.push(() => {
        running--;
        resolve(running);
      });
    });
  const a = await pool.start(job);
  const b = await pool.start(job);
  let thirdStarted = false;
  const c = pool.start(job).then((x) => ((thirdStarted = true), x));
  await tick();
  t.false(thirdStarted, 'third waits for a slot');
  t.is(pool.running, 2);
  releases.shift()!();
  await a.done;
  const third = await c;
  t.true(thirdStarted);
  releases.splice(0).forEach((r) => r());
  await Promise.all([b.done, third.done]);
  t.is(peak, 2);
  t.is(pool.running, 0);
});

test('a failing request frees its slot and rejects only its own done', async (t) => {
  const pool = new RequestPool(1);
  const bad = await pool.start(async () => {
    throw new Error('boom');
  });
  await t.throwsAsync(bad.done, { message: 'boom' });
  const good = await pool.start(async () => 7);
  t.is(await good.done, 7);
});

test('the limit must be a positive integer', (t) => {
  t.throws(() => new RequestPool(0), { instanceOf: RangeError });
  t.throws(() => new RequestPool(1.5), { instanceOf: RangeError });
});
