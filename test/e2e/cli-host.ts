/**
 * Runs the CLI commands for the end-to-end tests in long-lived threads of
 * the test process (cli-host-worker.ts): the command modules are loaded once
 * per thread, not once per run, which takes the ~0.25 s of CPU a run spent
 * starting a process and loading its modules down to the command's own work
 * (issue 10: ~700 runs per `npm test`). A command that crashes takes its
 * thread with it: the run reports exit 1 with the stack on stderr, as a
 * process would, and the next run gets a fresh thread.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HostJob, HostReply } from './cli-host-worker.js';
import { MAINS } from './cli-mains.js';

const WORKER = new URL('./cli-host-worker.js', import.meta.url);

/** Idle threads, ready for the next run. */
const idle: Worker[] = [];

/** A finished run: exit code and output. */
export interface HostResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * A new thread. A failure after its command returned (a stray rejection)
 * would crash a process after the fact: it is shown here and the thread is
 * not used again.
 */
function newHost(): Worker {
  const worker = new Worker(WORKER);
  const retire = (): void => {
    const i = idle.indexOf(worker);
    if (i >= 0) idle.splice(i, 1);
  };
  worker.on('error', (e: Error) => {
    if (idle.includes(worker)) process.stderr.write(`cli-host: a command failed after it returned: ${e.stack ?? String(e)}\n`);
    retire();
  });
  worker.on('exit', retire);
  return worker;
}

/** Runs one job on an idle thread (or a new one). */
export function runOnHost(bin: string, args: string[], env: Record<string, string | undefined>, stdin?: Buffer): Promise<HostResult> {
  const worker = idle.pop() ?? newHost();
  worker.ref();
  return new Promise<HostResult>((resolve) => {
    const done = (reply: HostResult, reusable: boolean): void => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (reusable) {
        worker.unref();
        idle.push(worker);
      }
      resolve(reply);
    };
    const onMessage = (reply: HostReply): void => done({ ...reply, stdout: Buffer.from(reply.stdout) }, true);
    const onError = (e: Error): void => done({ code: 1, stdout: Buffer.alloc(0), stderr: `${e.stack ?? String(e)}\n` }, false);
    const onExit = (code: number): void => done({ code, stdout: Buffer.alloc(0), stderr: `the command's thread exited with code ${code}\n` }, false);
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    const job: HostJob = { bin: path.basename(bin), args, env, ...(stdin?.length ? { stdin } : {}) };
    worker.postMessage(job);
  });
}

/** Whether runOnHost knows the command (else it must run as a process). */
export function hostRuns(bin: string): boolean {
  return path.basename(bin) in MAINS;
}
