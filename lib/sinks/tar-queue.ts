/**
 * The entries the tar target holds until their bucket ends: tar entries go
 * out in CHECKSUMS order, and a bucket's files are announced in another. A
 * bucket may have millions of objects, two entries each, so nothing here is
 * a JavaScript object per entry: paths are packed into an arena, fields are
 * columns, and content is only where its bytes are, read again when the
 * entry is written — a body as spans of the spill files, a small file
 * (sidecar, _bucket.json, …) in a scratch file of its own. That is some 40
 * bytes per entry and 20 per body span outside the JavaScript heap, plus
 * the paths (a sidecar's sharing its body's).
 */
import { BLOCK, ByteArena } from '../core/arena.js';
import { BlockColumn } from '../core/block-column.js';
import type { Span, SpillFile } from '../types.js';
import type { ScratchFile } from '../io/scratch-file.js';

/** Entry kinds: where an entry's content is. */
const SPANS = 0; // spans of scratch files (bodies)
const SMALL = 1; // size bytes in the small files' scratch file
const LARGE = 2; // a Buffer of its own (in `large`)
const PIECES = 3; // pieces made as they are consumed (in `pieced`)

/**
 * Files up to this size go to the scratch file. Larger ones (KEYMAP.jsonl,
 * _skipped.jsonl of a huge bucket) are few and kept as given: writing them
 * out would cost a copy and a read for no memory saved while the caller
 * holds them.
 */
const SMALL_FILE = BLOCK / 4;

/** A queued entry as it is handed out for writing. */
export type QueuedEntry = { path: Buffer; mode: number; size: number } & ({ data: Buffer } | { pieces: Iterable<Buffer> } | { spans: Iterable<Span>; mtime: number | undefined });

export class TarQueue {
  private readonly paths = new ByteArena();
  /** The last path put in the arena, which the next may extend. */
  private lastAt = 0;
  private lastLength = 0;
  private readonly large: Buffer[] = [];
  private readonly pieced: Array<Iterable<Buffer>> = [];

  // Entries.
  private n = 0;
  private readonly pathAt = new BlockColumn(Float64Array);
  private readonly pathLength = new BlockColumn(Uint32Array);
  private readonly kind = new BlockColumn(Uint8Array);
  private readonly mode = new BlockColumn(Uint32Array);
  private readonly size = new BlockColumn(Float64Array);
  /** SPANS: first span; SMALL: offset in the small files; LARGE, PIECES: index in large, pieced. */
  private readonly ref = new BlockColumn(Float64Array);
  private readonly spanCount = new BlockColumn(Uint32Array);
  /** A body's modification time in seconds (NaN: none). */
  private readonly bodyMtime = new BlockColumn(Float64Array);

  // Spans.
  private m = 0;
  private readonly spanFile = new BlockColumn(Uint32Array);
  private readonly spanOffset = new BlockColumn(Float64Array);
  private readonly spanLength = new BlockColumn(Float64Array);
  /** Files named by spans: few (the spill pool, one run per large body). */
  private readonly files: SpillFile[] = [];
  private readonly fileNumbers = new Map<number, number>();

  /** Small files' bytes are appended to smallFiles (the queue's owner rewinds it once they are written). */
  constructor(private readonly smallFiles: ScratchFile) {}

  /** Entries queued. */
  get length(): number {
    return this.n;
  }

  /** A file with these bytes (held in scratch when small: the caller's buffer may go). */
  addFile(path: Buffer, mode: number, data: Buffer): void {
    const k = this.add(path, mode, data.length);
    if (data.length <= SMALL_FILE) {
      this.kind.set(k, SMALL);
      this.ref.set(k, this.smallFiles.append(data));
    } else {
      this.kind.set(k, LARGE);
      this.ref.set(k, this.large.push(data) - 1);
    }
  }

  /** A file given as pieces, consumed only when it is written. */
  addPieces(path: Buffer, mode: number, size: number, pieces: Iterable<Buffer>): void {
    const k = this.add(path, mode, size);
    this.kind.set(k, PIECES);
    this.ref.set(k, this.pieced.push(pieces) - 1);
  }

  /** A body of size bytes: the concatenation of spans of spill files; mtime in seconds. */
  addBody(path: Buffer, mode: number, size: number, spans: Iterable<Span>, mtime?: number): void {
    const k = this.add(path, mode, size);
    this.bodyMtime.set(k, mtime ?? NaN);
    this.kind.set(k, SPANS);
    this.ref.set(k, this.m);
    let count = 0;
    for (const span of spans) {
      const s = this.m++;
      this.spanFile.set(s, this.fileNumber(span.file));
      this.spanOffset.set(s, span.offset);
      this.spanLength.set(s, span.length);
      count++;
    }
    this.spanCount.set(k, count);
  }

  /**
   * Hands out the queued entries, sorted bytewise by path or in the order
   * they were added; once only (a queue holds one batch of entries: make a
   * new one for the next).
   */
  *take(sorted: boolean): Generator<QueuedEntry> {
    const { paths, smallFiles, large, pieced, pathAt, pathLength, kind, mode, size, ref, spanCount, spanFile, spanOffset, spanLength, files, bodyMtime } = this;
    smallFiles.flush();
    const order = new Uint32Array(this.n).map((_, k) => k);
    // Arena slices compared in place: no Buffer is made per comparison.
    if (sorted) order.sort((x, y) => paths.compare(pathAt.get(x), pathLength.get(x), pathAt.get(y), pathLength.get(y)));
    for (const k of order) {
      // A view: valid as long as the queue (its arena never gives blocks back).
      const path = paths.view(pathAt.get(k), pathLength.get(k));
      const m = mode.get(k);
      const bytes = size.get(k);
      const r = ref.get(k);
      const c = kind.get(k);
      // Whole literals, not `{ ...head, data }`: with Node 20's V8 each such
      // spread-then-add object leaves garbage in the old generation until a
      // full collection (some 35 MB over a bucket of 100 000 objects).
      if (c === SMALL) yield { path, mode: m, size: bytes, data: smallFiles.read(r, bytes) };
      else if (c === LARGE) yield { path, mode: m, size: bytes, data: large[r]! };
      else if (c === PIECES) yield { path, mode: m, size: bytes, pieces: pieced[r]! };
      else {
        const t = bodyMtime.get(k);
        yield { path, mode: m, size: bytes, spans: spansOf(r, spanCount.get(k)), mtime: Number.isNaN(t) ? undefined : t };
      }
    }

    function* spansOf(first: number, count: number): Generator<Span> {
      for (let s = first; s < first + count; s++) yield { file: files[spanFile.get(s)]!, offset: spanOffset.get(s), length: spanLength.get(s) };
    }
  }

  /** A new entry's number, with its path, mode and size set. */
  private add(path: Buffer, mode: number, size: number): number {
    const k = this.n++;
    this.pathAt.set(k, this.putPath(path));
    this.pathLength.set(k, path.length);
    this.mode.set(k, mode);
    this.size.set(k, size);
    return k;
  }

  /** Puts path in the arena, sharing the last path's bytes when it extends it (a sidecar's after its body's). */
  private putPath(path: Buffer): number {
    this.lastAt = this.paths.putExtending(path, this.lastAt, this.lastLength);
    this.lastLength = path.length;
    return this.lastAt;
  }

  private fileNumber(file: SpillFile): number {
    let i = this.fileNumbers.get(file.id);
    if (i === undefined) {
      i = this.files.push(file) - 1;
      this.fileNumbers.set(file.id, i);
    }
    return i;
  }
}
