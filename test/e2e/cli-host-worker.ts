/**
 * A thread that runs CLI commands one after another for test/e2e/cli-host.ts,
 * with their modules loaded once. Each job gets its own argv, environment,
 * stdin and captured stdout/stderr: process.env is this thread's own copy,
 * and process.stdin/stdout/stderr are swapped for the job's streams, so the
 * commands run unchanged (their default I/O reads `process.*` when used).
 */
import { Readable, Writable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { MAINS } from './cli-mains.js';

/** What the host sends: the bin's file name, its arguments, the whole environment, stdin bytes. */
export interface HostJob {
  bin: string;
  args: string[];
  env: Record<string, string | undefined>;
  stdin?: Uint8Array;
}

/** What comes back once the command has returned and its stdout has ended. */
export interface HostReply {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

interface Streams {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}
let current: Streams | undefined;
for (const name of ['stdin', 'stdout', 'stderr'] as const) {
  const own = process[name] as unknown as Record<symbol, unknown>;
  // Node's thread machinery calls a symbol-keyed method of process.stdout
  // and process.stderr when the parent reads them: keep it reaching the
  // thread's own streams while a job's streams stand in for them.
  const internal: symbol[] = [];
  for (let o: object | null = own; o; o = Object.getPrototypeOf(o) as object | null) {
    internal.push(...Object.getOwnPropertySymbols(o).filter((sym) => sym.description === 'kStdioWantsMoreDataCallback'));
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: true,
    get: () => {
      if (!current) return own;
      const stream = current[name] as unknown as Record<symbol, unknown>;
      for (const sym of internal) stream[sym] ??= (own[sym] as (...a: unknown[]) => unknown).bind(own);
      return stream;
    },
  });
}

function collector(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      into.push(chunk);
      cb();
    },
  });
}

async function run(job: HostJob): Promise<HostReply> {
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, job.env);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdin = new Readable({ read() {} });
  if (job.stdin?.length) stdin.push(Buffer.from(job.stdin));
  stdin.push(null);
  current = { stdin, stdout: collector(out), stderr: collector(err) };
  try {
    const main = await MAINS[job.bin]!();
    const code = await main(job.args);
    await new Promise<void>((resolve) => current!.stdout.end(resolve));
    return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
  } finally {
    current = undefined;
  }
}

parentPort!.on('message', (job: HostJob) => {
  // A command that throws crashes this thread, as it would crash a process.
  void run(job).then((reply) => parentPort!.postMessage(reply));
});
