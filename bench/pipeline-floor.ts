/**
 * The least a Node program must do to turn a snapshot file into a dump of
 * its bytes, with nothing of ours in it: read the input in 4 MiB pieces
 * into reused shared memory, CRC-32C each piece on the main thread (native
 * input is checked, SPEC §3.2), hash on worker threads, and write each
 * piece out (lib/io/serial-writer.ts, the decoder's writer: one write at a
 * time per file, 1 MiB each, on the libuv pool), all overlapped. No records, no
 * parsing, no sidecars: what is left between a decode row and this is ours.
 *
 *   node dist/bench/pipeline-floor.js INPUT OUTDIR [--md5 [--md5-as-written]] [--objects N] [--jsonl BODY_BYTES]
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
 * With --jsonl, INPUT is a snapshot as JSON lines whose blob values, in
 * the order of their lines, are BODY_BYTES of body, cut into the N objects
 * as above (the bench's workloads: blob keys sort before the other S3
 * keys, so an object's chunks come together and in order). It is read in
 * 4 MiB pieces into one reused buffer (a line cut by a piece's end moved
 * to its start), its lines found, and each blob line's value decoded from
 * base64 by the decoder's own strict decoder (lib/core/base64.ts) into
 * the shared memory, values packed up to 4 MiB a piece; the other lines
 * are skipped. No CRC-32C: JSON lines carry none. What JSON lines cost a
 * decode beyond this (the records, their keys, the line joins) is ours.
 *
 * Prints one JSON line: wall seconds, bytes, the CRC-32C (native input),
 * each object's digests, this process's user and system seconds (all
 * threads). OUTDIR must not exist; it is left for the caller to delete.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { base64DecodedLength, decodeBase64Bytes } from '../lib/core/base64.js';
import { crc32c } from '../lib/core/crc32c.js';
import { SerialWriter } from '../lib/io/serial-writer.js';
import { Md5FilesQueue, type Md5FilesReply, type Md5FilesRequest } from '../lib/stages/md5-files-queue.js';

const PIECE = 4 << 20;
const SLOTS = 8;
const WRITE_BYTES = 1 << 20;
/** How a blob line of JSON lines starts: its key is base64 of `!s3|blob|…`, whose 9 bytes are 12 characters of their own. */
const BLOB_LINE = Buffer.from(`{"key":"${Buffer.from('!s3|blob|').toString('base64')}`);
const VALUE = Buffer.from('","value":"');

/** To a worker: bytes of a slot to hash into an object's digests. */
interface Job {
  slot: number;
  length: number;
  object: number;
}

/** A worker's reply: the slot it is done with, an object's digests, or the MD5 of a written object's file. */
type Reply = { slot: number } | { done: Digests } | { files: Md5FilesReply };

/** An object's digests, hex, in the worker's algorithm order. */
interface Digests {
  object: number;
  hex: string[];
}

/** To a worker: bytes to hash, an object's end (finish its digests), a written object's file to MD5 (its id is the object's number), or no more files to come. */
type Message = Job | { end: number } | { files: Md5FilesRequest } | { flush: true };

/** An object's output file, its writes not done yet, and whether its last byte was put. */
interface ObjectOut {
  object: number;
  file: string;
  unwritten: number;
  allPut: boolean;
}

interface WorkerSetup {
  buffers: SharedArrayBuffer[];
  algorithms: string[];
}

/**
 * Where the body bytes go: slots of shared memory, each hashed on the
 * workers and written to its object's file, taken back once both are done.
 * The bytes of `total` are cut into `objects` files of equal size.
 */
class Bodies {
  readonly views: Buffer[];
  /** digests[algorithm][object], as the workers report them. */
  readonly digests: Record<string, string[]> = {};
  /** Several objects' MD5s computed from their files, side by side (see above), not as written. */
  readonly md5FromFiles: boolean;
  private readonly workers: Worker[];
  private readonly objectBytes: number;
  private readonly holds = new Array<number>(SLOTS).fill(0);
  private readonly free: number[] = Array.from({ length: SLOTS }, (_, i) => i);
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  /** Replies awaited that hold no slot: objects' digests and files' MD5s. */
  private awaited = 0;
  private readonly fds: number[] = [];
  private object = -1;
  /** Bytes of the current object put so far. */
  private objectAt = 0;
  private writer: SerialWriter | undefined;
  private out: ObjectOut | undefined;

  constructor(
    private readonly outDir: string,
    private readonly total: number,
    private readonly objects: number,
    md5: boolean,
    md5AsWritten: boolean,
  ) {
    this.md5FromFiles = md5 && objects > 1 && !md5AsWritten;
    this.objectBytes = Math.ceil(total / objects);
    const buffers = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(PIECE));
    this.views = buffers.map((b) => Buffer.from(b));
    // One stream: an algorithm per worker. Several objects: every algorithm hashed as written on each of two workers.
    const asWritten = md5 && !this.md5FromFiles ? ['sha256', 'md5'] : ['sha256'];
    const plans = objects === 1 ? (md5 ? [['sha256'], ['md5']] : [['sha256']]) : [asWritten, asWritten];
    this.workers = plans.map((algorithms) => new Worker(new URL(import.meta.url), { workerData: { buffers, algorithms } satisfies WorkerSetup }));
    plans.forEach((algorithms, i) => this.workers[i]!.on('message', (m: Reply) => this.reply(algorithms, m)));
    mkdirSync(outDir);
  }

  /** A free slot, once there is one. */
  async slot(): Promise<number> {
    while (this.free.length === 0) await this.event();
    this.check();
    return this.free.pop()!;
  }

  /** Bytes the current object still takes, the next object begun when it is full (0 once the last is). */
  room(): number {
    if (this.out === undefined || (this.objectAt === this.sizeOf(this.object) && this.object < this.objects - 1)) this.begin();
    return this.sizeOf(this.object) - this.objectAt;
  }

  /** Puts bytes [0, length) of a slot taken by slot(), all of them within room(). */
  put(slot: number, length: number): void {
    const o = this.out!;
    const object = this.object;
    const targets = this.targets(object);
    this.holds[slot] = targets.length + Math.ceil(length / WRITE_BYTES);
    for (const w of targets) w.postMessage({ slot, length, object } satisfies Message);
    // The decoder's own writer, given the 1 MiB pieces the decoder gives it (blob chunks).
    for (let offset = 0; offset < length; offset += WRITE_BYTES) {
      o.unwritten++;
      this.writer!.write(this.views[slot]!.subarray(offset, Math.min(length, offset + WRITE_BYTES)), this.objectAt + offset, (err) => {
        if (err) this.failure = err;
        this.release(slot);
        o.unwritten--;
        this.written(o);
      });
    }
    this.objectAt += length;
    if (this.objectAt === this.sizeOf(object)) {
      for (const w of targets) w.postMessage({ end: object } satisfies Message);
      this.awaited += targets.length;
      o.allPut = true;
      this.written(o);
    }
  }

  /** After the last put(): every write, hash and MD5 done, files closed, workers ended. */
  async finish(): Promise<void> {
    if (this.object !== this.objects - 1 || this.objectAt !== this.sizeOf(this.object)) throw new Error(`input ended ${this.total - this.bytesPut()} bytes short of its ${this.total}`);
    // Every write done (each holds its slot): every file's MD5 asked for.
    while (this.free.length < SLOTS && !this.failure) await this.event();
    if (this.md5FromFiles) this.workers[1]!.postMessage({ flush: true } satisfies Message);
    while (this.awaited > 0 && !this.failure) await this.event();
    this.check();
    for (const fd of this.fds) closeSync(fd);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private bytesPut(): number {
    return Math.max(0, this.object) * this.objectBytes + this.objectAt;
  }

  private sizeOf(object: number): number {
    return Math.min(this.total, (object + 1) * this.objectBytes) - object * this.objectBytes;
  }

  /** The workers that hash an object's bytes as they are put. */
  private targets(object: number): Worker[] {
    // MD5s from files keep the second worker busy: every SHA-256 goes to the first.
    return this.objects === 1 ? this.workers : [this.workers[this.md5FromFiles ? 0 : object % 2]!];
  }

  private begin(): void {
    this.object++;
    this.objectAt = 0;
    const file = path.join(this.outDir, `object-${this.object}`);
    const fd = openSync(file, 'wx');
    this.fds.push(fd);
    this.writer = new SerialWriter(fd, file);
    this.out = { object: this.object, file, unwritten: 0, allPut: false };
  }

  private reply(algorithms: string[], m: Reply): void {
    if ('files' in m) {
      if ('failed' in m.files) this.failure = new Error(m.files.failed.message);
      else (this.digests.md5 ??= [])[m.files.id] = Buffer.from(m.files.md5s[0]!).toString('hex');
      this.awaited--;
      return this.notify();
    }
    if ('done' in m) {
      algorithms.forEach((a, k) => ((this.digests[a] ??= [])[m.done.object] = m.done.hex[k]!));
      this.awaited--;
      return this.notify();
    }
    this.release(m.slot);
  }

  /** Once every write of an object is done and its last byte was put, its MD5 is asked for. */
  private written(o: ObjectOut): void {
    if (!this.md5FromFiles || o.unwritten !== 0 || !o.allPut) return;
    this.awaited++;
    this.workers[1]!.postMessage({ files: { id: o.object, path: o.file, ranges: [{ offset: 0, length: this.sizeOf(o.object) }] } } satisfies Message);
  }

  private release(slot: number): void {
    if (--this.holds[slot]! === 0) {
      this.free.push(slot);
      this.notify();
    }
  }

  private event(): Promise<void> {
    return new Promise<void>((r) => (this.wake = r));
  }

  private notify(): void {
    this.wake?.();
    this.wake = null;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}

async function main(args: string[]): Promise<void> {
  const [input, outDir] = args.filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const md5 = args.includes('--md5');
  const objectsAt = args.indexOf('--objects');
  const objects = objectsAt >= 0 ? Number(args[objectsAt + 1]) : 1;
  const jsonlAt = args.indexOf('--jsonl');
  const bodyBytes = jsonlAt >= 0 ? Number(args[jsonlAt + 1]) : undefined;
  if (input === undefined || outDir === undefined || !(objects >= 1) || (bodyBytes !== undefined && !(bodyBytes >= objects))) {
    process.stderr.write('usage: pipeline-floor INPUT OUTDIR [--md5 [--md5-as-written]] [--objects N] [--jsonl BODY_BYTES]\n');
    process.exit(2);
  }
  const t0 = process.hrtime.bigint();
  const fd = openSync(input, 'r');
  const total = bodyBytes ?? fstatSync(fd).size;
  const bodies = new Bodies(outDir, total, objects, md5, args.includes('--md5-as-written'));
  const crc = bodyBytes === undefined ? await putNative(fd, bodies) : await putJsonl(fd, bodies);
  await bodies.finish();
  closeSync(fd);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({ wall, bytes: total, objects, md5, md5FromFiles: bodies.md5FromFiles, crc, digests: bodies.digests, userS: cpu.userCPUTime / 1e6, systemS: cpu.systemCPUTime / 1e6 })}\n`);
}

/** A native input's bytes, read straight into the slots and CRC-32C'd: its CRC-32C. */
async function putNative(fd: number, bodies: Bodies): Promise<number> {
  let crc = 0;
  for (let room = bodies.room(), at = 0; room > 0; room = bodies.room()) {
    const slot = await bodies.slot();
    const view = bodies.views[slot]!;
    const length = readSync(fd, view, 0, Math.min(PIECE, room), at);
    if (length === 0) break;
    crc = crc32c(view, crc, 0, length);
    bodies.put(slot, length);
    at += length;
  }
  return crc >>> 0;
}

/** A JSON-lines input's blob values, decoded into the slots (see above). */
async function putJsonl(fd: number, bodies: Bodies): Promise<null> {
  let buf = Buffer.allocUnsafe(2 * PIECE);
  let start = 0;
  let end = 0;
  let line = 0;
  /** The slot values are decoded into, and how much of it they fill. */
  let slot = -1;
  let fill = 0;
  const flush = (): void => {
    if (slot >= 0) bodies.put(slot, fill);
    slot = -1;
    fill = 0;
  };
  const blobLine = async (view: Buffer, from: number, to: number): Promise<void> => {
    const valueAt = view.indexOf(VALUE, from + BLOB_LINE.length);
    if (valueAt < 0 || valueAt >= to) throw new Error(`line ${line}: a blob line without "value" after its key`);
    const first = valueAt + VALUE.length;
    const stop = view.indexOf(0x22, first);
    if (stop < 0 || stop >= to) throw new Error(`line ${line}: a blob value without its closing quote`);
    const bytes = base64DecodedLength(view, first, stop, 'value', line);
    if (slot >= 0 && (fill + bytes > PIECE || fill + bytes > bodies.room())) flush();
    if (bytes > PIECE || bytes > bodies.room()) throw new Error(`line ${line}: a blob value of ${bytes} bytes does not fit: past BODY_BYTES, or across an object's end (BODY_BYTES / N must be a multiple of the values' size, each at most ${PIECE})`);
    if (slot < 0) slot = await bodies.slot();
    const into = bodies.views[slot]!;
    decodeBase64Bytes(view, first, stop, 'value', line, (n) => into.subarray(fill, fill + n));
    fill += bytes;
  };
  for (;;) {
    // Room for a whole piece: the line cut by the last read moved to the start, or (a line longer than the buffer) a larger buffer.
    if (buf.length - end < PIECE) {
      buf.copyWithin(0, start, end);
      end -= start;
      start = 0;
      if (buf.length - end < PIECE) buf = Buffer.concat([buf.subarray(0, end), Buffer.allocUnsafe(buf.length)], buf.length * 2);
    }
    const got = readSync(fd, buf, end, PIECE, null);
    const view = buf.subarray(0, end + got);
    // That line was scanned up to `end` already.
    const from = end;
    end += got;
    if (got === 0) {
      if (start < end) {
        line++;
        if (isBlobLine(view, start, end)) await blobLine(view, start, end);
      }
      break;
    }
    for (let nl = view.indexOf(0x0a, from); nl >= 0; nl = view.indexOf(0x0a, start)) {
      line++;
      if (isBlobLine(view, start, nl)) await blobLine(view, start, nl);
      start = nl + 1;
    }
  }
  flush();
  return null;
}

/** Whether the line view[start, end) begins as a blob line does (compared in place, no view made per line). */
function isBlobLine(view: Buffer, start: number, end: number): boolean {
  return end - start > BLOB_LINE.length && BLOB_LINE.compare(view, start, start + BLOB_LINE.length) === 0;
}

if (!isMainThread) {
  const { buffers, algorithms } = workerData as WorkerSetup;
  const open = new Map<number, Hash[]>();
  const hashesOf = (object: number): Hash[] => {
    let hashes = open.get(object);
    if (hashes === undefined) open.set(object, (hashes = algorithms.map((a) => createHash(a))));
    return hashes;
  };
  const files = new Md5FilesQueue((r) => parentPort!.postMessage({ files: r } satisfies Reply));
  parentPort!.on('message', (m: Message) => {
    if ('files' in m) return files.add(m.files);
    if ('flush' in m) return files.flush();
    if ('end' in m) {
      const hex = hashesOf(m.end).map((h) => h.digest('hex'));
      open.delete(m.end);
      return parentPort!.postMessage({ done: { object: m.end, hex } } satisfies Reply);
    }
    const bytes = new Uint8Array(buffers[m.slot]!, 0, m.length);
    for (const h of hashesOf(m.object)) h.update(bytes);
    parentPort!.postMessage({ slot: m.slot } satisfies Reply);
  });
} else {
  await main(process.argv.slice(2));
}
