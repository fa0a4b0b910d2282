import test from 'ava';
import { Waiters, WorkerThread } from '../lib/io/worker-thread.js';

/** A thread that echoes numbers doubled, and exits with code 3 when sent -1. */
const ECHO = new URL(
  `data:text/javascript,${encodeURIComponent(
    "import { parentPort } from 'node:worker_threads'; parentPort.on('message', (n) => { if (n === -1) process.exit(3); parentPort.postMessage(2 * n); });",
  )}`,
);

test('messages go both ways; close() waits for the exit and reports no failure', async (t) => {
  const failures: Error[] = [];
  let resolve!: (n: number) => void;
  const reply = new Promise<number>((r) => (resolve = r));
  const thread = new WorkerThread<number, number>(ECHO, { onMessage: (n) => resolve(n), onFailure: (e) => failures.push(e) });
  thread.busy();
  thread.post(21);
  t.is(await reply, 42);
  thread.done();
  await thread.close();
  t.deepEqual(failures, []);
});

test('an exit close() did not ask for is a failure naming the thread and the exit code', async (t) => {
  const failure = new Promise<Error>((resolve) => {
    const thread = new WorkerThread<number, number>(ECHO, { name: 'echo worker', onMessage: () => {}, onFailure: resolve });
    thread.busy(); // referenced: the test process waits for the exit
    thread.post(-1);
  });
  t.is((await failure).message, 'echo worker exited with code 3');
});

test('Waiters: wakeOne releases the first waiter only, wakeAll the rest', async (t) => {
  const w = new Waiters();
  const woke: number[] = [];
  const all = [1, 2, 3].map((k) => w.wait().then(() => woke.push(k)));
  w.wakeOne();
  await all[0];
  t.deepEqual(woke, [1]);
  w.wakeAll();
  await Promise.all(all);
  t.deepEqual(woke, [1, 2, 3]);
});
