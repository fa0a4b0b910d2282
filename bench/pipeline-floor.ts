/**
 * The least a Node program must do to turn a snapshot file into a dump of
 * its bytes, with nothing of ours in it: read the input in 4 MiB pieces
 * into reused shared memory, CRC-32C each piece on the main thread (native
 * input is checked, SPEC §3.2), hash on worker threads, and write each
 * piece out (lib/io/serial-writer.ts, the decoder's writer: one write at a
 * time per file, 1 MiB each, on the libuv pool), all overlapped. No records, no
 * parsing, no sidecars: what is left between a decode row and this is ours.
 *
 *   node dist/bench/pipeline-floor.js INPUT OUTDIR [--md5 [--md5-as-written]] [--objects N]
 *
 * The input's bytes are cut into N objects of equal size (default 1: one
 * stream, like workload (d)), one output file each. With one object,
 * SHA-256 runs on one worker and, with --md5, MD5 on a second (a byte can
 * only be hashed in order). With several, hashing of different objects is
 * spread over two workers, like (a):
 * - without --md5, objects go to the two in turn for their SHA-256;
 * - with --md5, the MD5s are computed the cheapest way the decoder knows:
 *   each object's file, once written, is read back from the page cache by
 *   the second worker and hashed side by side with the others
 *   (lib/stages/md5-files-queue.ts, the decoder's own queue), while the
 *   first computes every SHA-256;
 * - with --md5 --md5-as-written, objects go to the two in turn, each
 *   worker computing an object's SHA-256 and MD5 as it comes (one MD5
 *   stream per object; the bench's pipeline until 830c578).
 *
 * Prints one JSON line: wall seconds, bytes, the CRC-32C, each object's
 * digests, this process's user and system seconds (all threads). OUTDIR
 * must not exist; it is left for the caller to delete.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { crc32c } from '../lib/core/crc32c.js';
import { SerialWriter } from '../lib/io/serial-writer.js';
import { Md5FilesQueue, type Md5FilesReply, type Md5FilesRequest } from '../lib/stages/md5-files-queue.js';

const PIECE = 4 << 20;
const SLOTS = 8;
const WRITE_BYTES = 1 << 20;

interface Job {
  slot: number;
  length: number;
  object: number;
  /** The object's last piece: finish its digests. */
  last: boolean;
}

/** A worker's reply: the slot it is done with, and at an object's end its digests; or the MD5 of a written object's file. */
type Reply = { slot: number; done?: Digests } | { files: Md5FilesReply };

/** An object's digests, hex, in the worker's algorithm order. */
interface Digests {
  object: number;
  hex: string[];
}

/** To a worker: bytes to hash, a written object's file to MD5 (its id is the object's number), or no more files to come. */
type Message = Job | { files: Md5FilesRequest } | { flush: true };

/** An object's output file, its writes not done yet, and whether its last piece was read. */
interface ObjectOut {
  object: number;
  file: string;
  unwritten: number;
  allRead: boolean;
}

interface WorkerSetup {
  buffers: SharedArrayBuffer[];
  algorithms: string[];
}

if (!isMainThread) {
  const { buffers, algorithms } = workerData as WorkerSetup;
  const open = new Map<number, Hash[]>();
  const files = new Md5FilesQueue((r) => parentPort!.postMessage({ files: r } satisfies Reply));
  parentPort!.on('message', (m: Message) => {
    if ('files' in m) return files.add(m.files);
    if ('flush' in m) return files.flush();
    const job = m;
    let hashes = open.get(job.object);
    if (hashes === undefined) open.set(job.object, (hashes = algorithms.map((a) => createHash(a))));
    const bytes = new Uint8Array(buffers[job.slot]!, 0, job.length);
    for (const h of hashes) h.update(bytes);
    let done: Digests | undefined;
    if (job.last) {
      done = { object: job.object, hex: hashes.map((h) => h.digest('hex')) };
      open.delete(job.object);
    }
    parentPort!.postMessage({ slot: job.slot, done } satisfies Reply);
  });
} else {
  await main(process.argv.slice(2));
}

async function main(args: string[]): Promise<void> {
  const [input, outDir] = args.filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const md5 = args.includes('--md5');
  const objectsAt = args.indexOf('--objects');
  const objects = objectsAt >= 0 ? Number(args[objectsAt + 1]) : 1;
  if (input === undefined || outDir === undefined || !(objects >= 1)) {
    process.stderr.write('usage: pipeline-floor INPUT OUTDIR [--md5 [--md5-as-written]] [--objects N]\n');
    process.exit(2);
  }
  // Several objects' MD5s from their files, side by side (see above), unless asked to hash them as written.
  const md5FromFiles = md5 && objects > 1 && !args.includes('--md5-as-written');
  const t0 = process.hrtime.bigint();
  const buffers = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(PIECE));
  const views = buffers.map((b) => Buffer.from(b));
  // One stream: an algorithm per worker. Several objects: every algorithm hashed as written on each of two workers.
  const asWritten = md5 && !md5FromFiles ? ['sha256', 'md5'] : ['sha256'];
  const plans = objects === 1 ? (md5 ? [['sha256'], ['md5']] : [['sha256']]) : [asWritten, asWritten];
  const workers = plans.map((algorithms) => new Worker(new URL(import.meta.url), { workerData: { buffers, algorithms } satisfies WorkerSetup }));

  const holds = new Array<number>(SLOTS).fill(0);
  const free: number[] = Array.from({ length: SLOTS }, (_, i) => i);
  let wake: (() => void) | null = null;
  const releaseSlot = (slot: number) => {
    if (--holds[slot]! === 0) {
      free.push(slot);
      wake?.();
      wake = null;
    }
  };
  let failure: Error | null = null;
  /** digests[algorithm][object], as the workers report them. */
  const digests: Record<string, string[]> = {};
  let md5sWaited = 0;
  plans.forEach((algorithms, i) =>
    workers[i]!.on('message', (m: Reply) => {
      if ('files' in m) {
        if ('failed' in m.files) failure = new Error(m.files.failed.message);
        else (digests.md5 ??= [])[m.files.id] = Buffer.from(m.files.md5s[0]!).toString('hex');
        md5sWaited--;
        wake?.();
        wake = null;
        return;
      }
      if (m.done) algorithms.forEach((a, k) => ((digests[a] ??= [])[m.done!.object] = m.done!.hex[k]!));
      releaseSlot(m.slot);
    }),
  );
  /** Once every write of an object is done and its last piece was read, its MD5 is asked for. */
  const written = (o: ObjectOut) => {
    if (!md5FromFiles || o.unwritten !== 0 || !o.allRead) return;
    md5sWaited++;
    workers[1]!.postMessage({ files: { id: o.object, path: o.file, ranges: [{ offset: 0, length: objectBytesOf(o.object) }] } } satisfies Message);
  };

  const fd = openSync(input, 'r');
  const total = fstatSync(fd).size;
  const objectBytes = Math.ceil(total / objects);
  const objectBytesOf = (object: number) => Math.min(total, (object + 1) * objectBytes) - object * objectBytes;
  mkdirSync(outDir);
  let crc = 0;
  let at = 0;
  let object = -1;
  let objectStart = 0;
  let objectEnd = 0;
  const outs: number[] = [];
  let writer: SerialWriter | undefined;
  let out: ObjectOut | undefined;
  while (at < total) {
    if (at === objectEnd) {
      object++;
      objectStart = at;
      objectEnd = Math.min(total, at + objectBytes);
      const file = path.join(outDir, `object-${object}`);
      outs.push(openSync(file, 'wx'));
      writer = new SerialWriter(outs[outs.length - 1]!, file);
      out = { object, file, unwritten: 0, allRead: false };
    }
    while (free.length === 0) await new Promise<void>((r) => (wake = r));
    if (failure) throw failure;
    const slot = free.pop()!;
    const length = readSync(fd, views[slot]!, 0, Math.min(PIECE, objectEnd - at), at);
    crc = crc32c(views[slot]!, crc, 0, length);
    const last = at + length === objectEnd;
    // MD5s from files keep the second worker busy: every SHA-256 goes to the first.
    const targets = objects === 1 ? workers : [workers[md5FromFiles ? 0 : object % 2]!];
    holds[slot] = targets.length + Math.ceil(length / WRITE_BYTES);
    for (const w of targets) w.postMessage({ slot, length, object, last } satisfies Message);
    // The decoder's own writer, given the 1 MiB pieces the decoder gives it (blob chunks).
    const o = out!;
    for (let offset = 0; offset < length; offset += WRITE_BYTES) {
      const piece = views[slot]!.subarray(offset, Math.min(length, offset + WRITE_BYTES));
      o.unwritten++;
      writer!.write(piece, at - objectStart + offset, (err) => {
        if (err) failure = err;
        releaseSlot(slot);
        o.unwritten--;
        written(o);
      });
    }
    o.allRead = last;
    written(o);
    at += length;
  }
  while (free.length < SLOTS) await new Promise<void>((r) => (wake = r));
  if (md5FromFiles) workers[1]!.postMessage({ flush: true } satisfies Message);
  while (md5sWaited > 0 && !failure) await new Promise<void>((r) => (wake = r));
  if (failure) throw failure;
  closeSync(fd);
  for (const o of outs) closeSync(o);
  await Promise.all(workers.map((w) => w.terminate()));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({ wall, bytes: total, objects, md5, md5FromFiles, crc: crc >>> 0, digests, userS: cpu.userCPUTime / 1e6, systemS: cpu.systemCPUTime / 1e6 })}\n`);
}
