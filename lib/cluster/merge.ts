/**
 * The merge stage (SPEC §10): the records of several snapshots as one
 * record stream that feeds the version resolver like a single snapshot.
 *
 * Every input has its own reader (byte stream → SnapshotReader), all
 * running at once: their file reads overlap, and each holds at most one
 * read buffer plus a couple of records — memory does not grow with the
 * number of inputs beyond that. The stage keeps one head record per input
 * in a small binary heap and always passes on the least:
 *
 * - native inputs are sorted by encoded key (key ‖ BE(¬commit_ts)), so
 *   ordering the heap by encoded key yields one sorted stream — a k-way
 *   merge. Equal encoded keys leave in input order, so on a commit_ts tie
 *   the input given later comes later and wins (§3.3 "the later record").
 * - JSON lines may be unsorted: then the heap orders by input index alone,
 *   which concatenates the inputs in the order given.
 *
 * The mode is chosen once every input has shown its format (its first
 * record, or its end). Each record is tagged with its input's index. A
 * record whose value comes in pieces (lib/stages/value-pieces.ts) is
 * followed by them, from its input, before anything else is passed on.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecodeError, ioError } from '../errors.js';
import { compareRecordsByEncodedKey } from '../core/fsm-encoder.js';
import type { WarningHandler } from '../types.js';
import { createSnapshotReader, type InputFormat, type SnapshotReader } from '../stages/read-snapshot.js';
import { PAYLOAD_RECORDS } from '../stages/queue.js';
import type { SnapshotRecord, ValuePiece } from '../types.js';
import type { ClusterInput } from './input.js';

/** Options of openClusterMerge(). */
export interface MergeOptions {
  /** Force the format of every input instead of detecting it. */
  inputFormat?: InputFormat;
  /** Told `snapshot_unverified` for a native input without a footer (not for one that must have it, or one checked by its digest). */
  onWarning?: WarningHandler;
}

/** What one input turned out to hold, for MANIFEST.json `groups`. */
export interface InputReport {
  path: string;
  groupId?: bigint;
  snapshotIndex?: bigint;
  format: InputFormat | undefined;
  lastCommitTs?: bigint;
  records: number;
  bytesRead: number;
  /** The verified CRC32C footer's value. */
  crc32c?: number;
}

/** The merge stage: the records of every input as one object-mode stream (see the file header). */
export class ClusterMerge extends Readable {
  readonly inputs: readonly ClusterInput[];
  readonly readers: readonly SnapshotReader[];
  /** Decided once every input showed its format: true for a k-way merge by encoded key, false for concatenation. */
  sorted: boolean | undefined;
  private readonly sources: Readable[];
  private readonly heads: Array<SnapshotRecord | undefined>;
  private readonly heap: number[] = [];
  /** Inputs whose next head must be read. */
  private readonly pending: number[];
  private readonly done: boolean[];
  private waitingOn = -1;
  /** The input whose record just passed on has pieces of its value to follow (-1: none). */
  private piecesFrom = -1;
  /** An input's failure that came before anything listened for errors, raised at the first read. */
  private failure: Error | undefined;

  constructor(inputs: readonly ClusterInput[], sources: Readable[], opts: MergeOptions = {}) {
    super({ objectMode: true, highWaterMark: PAYLOAD_RECORDS });
    this.inputs = inputs;
    this.sources = sources;
    this.heads = inputs.map(() => undefined);
    this.done = inputs.map(() => false);
    this.pending = inputs.map((_, i) => i).reverse();
    this.readers = inputs.map((input, i) => {
      // One record decoded ahead per input (besides its head): a record can carry a 1 MiB chunk.
      // An input that must have a footer fails without one; an offloaded one is checked by its digest.
      const warn = opts.onWarning && !input.requireFooter && !input.verify ? { onWarning: opts.onWarning } : {};
      const reader = createSnapshotReader({ readableHighWaterMark: 1, source: input.path, emptyIsError: true, valuePieces: true, ...warn, ...(opts.inputFormat ? { format: opts.inputFormat } : {}) });
      reader.on('end', () => this.inputEnded(i));
      pipeline(sources[i]!, reader).catch((err: unknown) => this.fail(inputError(err, input.path)));
      return reader;
    });
  }

  get bytesRead(): number {
    return this.readers.reduce((n, r) => n + r.bytesRead, 0);
  }

  get records(): number {
    return this.readers.reduce((n, r) => n + r.records, 0);
  }

  /** Per input, what it held (complete once the stream ended). */
  reports(): InputReport[] {
    return this.inputs.map((input, i) => {
      const r = this.readers[i]!;
      return {
        path: input.path,
        ...(input.groupId !== undefined ? { groupId: input.groupId } : {}),
        ...(input.snapshotIndex !== undefined ? { snapshotIndex: input.snapshotIndex } : {}),
        format: r.header?.format,
        ...(r.header?.lastCommitTs !== undefined ? { lastCommitTs: r.header.lastCommitTs } : {}),
        records: r.records,
        bytesRead: r.bytesRead,
        ...(r.footerCrc !== undefined ? { crc32c: r.footerCrc } : {}),
      };
    });
  }

  override _read(): void {
    if (this.failure) this.destroy(this.failure);
    else this.pump();
  }

  /**
   * An input failed. A remote input can fail (HTTP 403) before the merge is
   * wired into the decoder's pipeline: an 'error' then would have no
   * listener and end the process, so it waits for the first read.
   */
  private fail(err: Error): void {
    if (this.listenerCount('error') > 0) this.destroy(err);
    else this.failure ??= err;
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    for (const s of this.sources) s.destroy();
    for (const r of this.readers) r.destroy();
    cb(err);
  }

  private pump(): void {
    if (this.waitingOn >= 0 || this.destroyed) return;
    for (;;) {
      if (this.piecesFrom >= 0) {
        const i = this.piecesFrom;
        const piece = this.readers[i]!.read() as ValuePiece | null;
        if (piece === null) return this.waitFor(i);
        if (piece.last) {
          this.piecesFrom = -1;
          this.pending.push(i);
        }
        if (!this.push(piece)) return;
        continue;
      }
      while (this.pending.length > 0) {
        const i = this.pending.at(-1)!;
        if (this.done[i]) {
          this.pending.pop();
          continue;
        }
        const rec = this.readers[i]!.read() as SnapshotRecord | null;
        if (rec === null) return this.waitFor(i);
        this.pending.pop();
        rec.input = i;
        this.heads[i] = rec;
        this.heapPush(i);
      }
      if (this.heap.length === 0) {
        this.push(null);
        return;
      }
      if (this.sorted === undefined) this.chooseMode();
      const i = this.heapPop();
      const rec = this.heads[i]!;
      this.heads[i] = undefined;
      if (rec.valueLength !== undefined) this.piecesFrom = i;
      else this.pending.push(i);
      if (!this.push(rec)) return;
    }
  }

  /** Every input has shown its format: merge by encoded key unless one is JSON lines (then re-order the heap by input). */
  private chooseMode(): void {
    this.sorted = this.readers.every((r) => r.header?.format !== 'jsonl');
    if (!this.sorted) this.heap.sort((a, b) => a - b);
  }

  /** Resumes when input i has a record or has ended. */
  private waitFor(i: number): void {
    this.waitingOn = i;
    this.readers[i]!.once('readable', () => this.resumeAfter(i));
  }

  private resumeAfter(i: number): void {
    if (this.waitingOn !== i) return;
    this.waitingOn = -1;
    this.pump();
  }

  private inputEnded(i: number): void {
    const input = this.inputs[i]!;
    const reader = this.readers[i]!;
    try {
      if (input.requireFooter && reader.footerCrc === undefined) {
        throw new DecodeError(
          'ERR_SNAPSHOT_TRUNCATED',
          'the snapshot has no CRC32C footer, which a node always writes: it is truncated at an entry boundary or was not written by a node',
          { path: input.path },
        );
      }
      input.verify?.({ bytes: reader.bytesRead, footerCrc: reader.footerCrc });
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    this.done[i] = true;
    this.resumeAfter(i);
  }

  /** Heap order: encoded key then input index (sorted), or input index alone (concatenation). */
  private less(a: number, b: number): boolean {
    if (this.sorted !== false) {
      const c = compareRecordsByEncodedKey(this.heads[a]!, this.heads[b]!);
      if (c !== 0) return c < 0;
    }
    return a < b;
  }

  private heapPush(i: number): void {
    const h = this.heap;
    let k = h.push(i) - 1;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.less(h[k]!, h[parent]!)) break;
      [h[k], h[parent]] = [h[parent]!, h[k]!];
      k = parent;
    }
  }

  private heapPop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === k) break;
        [h[k], h[m]] = [h[m]!, h[k]!];
        k = m;
      }
    }
    return top;
  }
}

/** A reader's failure, naming the input it concerns. */
function inputError(err: unknown, path: string): Error {
  if (err instanceof DecodeError) return err.context.path !== undefined ? err : new DecodeError(err.code, err.detail, { ...err.context, path }, err.level, { cause: err });
  return ioError(err, path, 'cannot read input');
}

/** Opens every input (closing the ones already open if one fails) and merges them. */
export async function openClusterMerge(inputs: readonly ClusterInput[], opts: MergeOptions = {}): Promise<ClusterMerge> {
  const sources: Readable[] = [];
  try {
    for (const input of inputs) sources.push(await input.open());
  } catch (err) {
    for (const s of sources) s.destroy();
    throw err;
  }
  return new ClusterMerge(inputs, sources, opts);
}
