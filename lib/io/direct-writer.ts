/**
 * Appends to a file with O_DIRECT: bytes go from an aligned staging buffer
 * to the disk, not through the page cache. On a VM that hands free memory
 * back to its host (free page reporting, as on this project's machines)
 * every fresh page-cache page is a host page fault on first touch: `dd` of
 * 1 GiB into fresh page cache took 1.8-1.9 s of system time there, with
 * oflag=direct 0.10-0.16 s (docs/PERFORMANCE.md, "Writes that skip the page
 * cache"). The decoder uses it for the runs of a dump directory without
 * verification: published by rename, never read again, they would only
 * evict what the host keeps cached. (With verification a run's MD5s are
 * computed from its file, which would then come back from the disk.)
 *
 * O_DIRECT needs the memory, the file offset and the length of each write
 * aligned (DIRECT_ALIGN). The whole blocks of a piece whose memory is
 * aligned where the file offset is (a value decoded or assembled into a
 * shared block: lib/io/shared-blocks.ts, lib/io/aligned-memory.ts) are
 * written from where it lies; other bytes are copied into a staging buffer and
 * written a whole number of blocks at a time. Two writes may be in flight
 * while a third stage fills: a direct write waits for the disk, and with
 * one at a time the disk idled while its callback waited for a busy main
 * thread (1 MiB writes took 1.2-1.4 ms each inside a decode of one 1 GiB
 * object, 0.7-1.0 ms alone: bench/direct-queue-depth.ts);
 * a second is issued only when it is a whole stage, so small pieces are
 * still gathered into fewer writes. The bytes past the
 * last whole block stay staged, and when nothing more is queued they are
 * written through a second, buffered descriptor of the same file so that
 * every piece is in the file when its callback runs (as with SerialWriter).
 * The next direct write starts at that block again and covers them (the
 * kernel writes back and drops the cached page first). A filesystem that
 * refuses an aligned direct write (EINVAL) gets every later byte of the
 * file through the buffered descriptor.
 */
import fs from 'node:fs';
import { copyBytes } from '../core/copy-bytes.js';
import { ioError, type DecodeError } from '../errors.js';
import { alignedAt, alignedBuffer, DIRECT_ALIGN } from './aligned-memory.js';
import { closeFd, CREATE_NEW, writeAll, type Done } from './fs-callbacks.js';

/** Bytes in one direct write at most. */
const STAGE_BYTES = 1 << 20;

interface Pending {
  buf: Buffer;
  /** Bytes of buf already copied into the stage. */
  copied: number;
  /** File offset just past the piece. */
  end: number;
  done: Done;
}

/** Direct writes in flight at most: the second keeps the disk busy while the first one's callback waits for the main thread. */
const MAX_IN_FLIGHT = 2;
/**
 * Writes in flight of every writer: a writer's second write waits while
 * there are MAX_IN_FLIGHT, so that the writes of runs that overlap (one
 * sealed, the next begun) do not hold every thread of libuv's pool, which
 * also reads the input.
 */
let inFlightAll = 0;

/** One stage per write in flight, and one being filled. */
type Stages = readonly Buffer[];
/**
 * Stages of closed writers, used again: an aligned buffer is returned to
 * the system only when the garbage collector gets to it (a run per object,
 * each with fresh stages, took a decode of 64 objects from 131 to 204 MiB).
 */
const freeStages: Stages[] = [];

function newStages(): Stages {
  return Array.from({ length: MAX_IN_FLIGHT + 1 }, () => alignedBuffer(STAGE_BYTES + DIRECT_ALIGN));
}

interface InFlight {
  /** File offset of the write. */
  at: number;
  /** The stage written from, or -1 for a piece written where it lies. */
  stage: number;
  /** A partial block written through the page cache: the next direct write covers it again, so it is written alone. */
  tail: boolean;
}

export class DirectWriter {
  private stages: Stages | null = freeStages.pop() ?? newStages();
  /** The stage being filled: stages[cur][0, staged) holds the file from stageStart (a multiple of DIRECT_ALIGN). */
  private cur = 0;
  private stageStart = 0;
  private staged = 0;
  /** Pieces not yet copied whole into a stage, then those copied but not yet in the file; in file order. */
  private readonly queue: Pending[] = [];
  private readonly inStage: Pending[] = [];
  /** Where the next piece must start. */
  private size = 0;
  /** Writes issued and not yet called back, in file order (they are issued in file order and never overlap). */
  private readonly inFlight: InFlight[] = [];
  /** File offset just past the last write issued. */
  private issuedEnd = 0;
  /** A write of the partial block is due once the pieces queued in this turn of the event loop are in. */
  private tailDue = false;
  /** Direct writes refused (EINVAL): every later byte goes through the buffered descriptor. */
  private buffered = false;
  private error: DecodeError | null = null;

  private constructor(
    private readonly directFd: number,
    private readonly bufferedFd: number,
    private readonly path: string,
  ) {}

  /**
   * Creates the file (it must not exist), open twice: with O_DIRECT, and
   * without for the tail. A filesystem that refuses O_DIRECT at open gets a
   * writer with only the buffered descriptor.
   */
  static create(path: string, done: (err: DecodeError | null, w?: DirectWriter) => void): void {
    fs.open(path, CREATE_NEW | fs.constants.O_DIRECT, 0o600, (err, directFd) => {
      if (err?.code === 'EINVAL') {
        return fs.open(path, CREATE_NEW, 0o600, (e2, fd) => (e2 ? done(ioError(e2, path, 'cannot create')) : done(null, new DirectWriter(-1, fd, path))));
      }
      if (err) return done(ioError(err, path, 'cannot create'));
      fs.open(path, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, (e2, bufferedFd) => {
        if (e2) return closeFd(directFd, path, () => done(ioError(e2, path, 'cannot open')));
        done(null, new DirectWriter(directFd, bufferedFd, path));
      });
    });
  }

  /**
   * A writer that goes on appending to the file at path, `size` bytes long
   * and no longer written by anyone else: its last partial block is read
   * back into the stage, to be written again with what follows. Calls back
   * with no writer when the filesystem refuses O_DIRECT (EINVAL).
   */
  static adopt(path: string, size: number, done: (err: DecodeError | null, w?: DirectWriter) => void): void {
    fs.open(path, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | fs.constants.O_DIRECT, (err, directFd) => {
      if (err?.code === 'EINVAL') return done(null);
      if (err) return done(ioError(err, path, 'cannot open'));
      fs.open(path, fs.constants.O_RDWR | fs.constants.O_NOFOLLOW, (e2, bufferedFd) => {
        if (e2) return closeFd(directFd, path, () => done(ioError(e2, path, 'cannot open')));
        const w = new DirectWriter(directFd, bufferedFd, path);
        w.size = size;
        w.stageStart = size - (size % DIRECT_ALIGN);
        const partial = size - w.stageStart;
        if (partial === 0) return done(null, w);
        fs.read(bufferedFd, w.stages![0]!, 0, partial, w.stageStart, (e3, n) => {
          if (e3 || n !== partial) return w.close(() => done(ioError(e3 ?? new Error('unexpected end of file'), path, 'cannot read')));
          w.staged = partial;
          done(null, w);
        });
      });
    });
  }

  /** Whether writes go to the disk directly (false: the filesystem refused O_DIRECT). */
  get direct(): boolean {
    return this.directFd >= 0 && !this.buffered;
  }

  /** Appends buf, which must start where the last piece ended; calls back once it is in the file. buf must not change until then. */
  write(buf: Buffer, position: number, done: Done): void {
    if (this.error) return done(this.error);
    if (position !== this.size) return done(ioError(new Error(`a direct write at ${position}, not at the end (${this.size})`), this.path, 'cannot write'));
    if (buf.length === 0) return done();
    this.size += buf.length;
    this.queue.push({ buf, copied: 0, end: this.size, done });
    this.pump();
  }

  /** Closes both descriptors (after the last callback: the stages go back to be used by the next writer). */
  close(done: Done): void {
    if (this.stages && this.inFlight.length === 0) freeStages.push(this.stages);
    this.stages = null;
    const fds = this.directFd >= 0 ? [this.directFd, this.bufferedFd] : [this.bufferedFd];
    let left = fds.length;
    let first: DecodeError | null = null;
    for (const fd of fds) {
      closeFd(fd, this.path, (err) => {
        first ??= err ?? null;
        if (--left === 0) done(first);
      });
    }
  }

  /**
   * Fills the stage; while a write slot is free, writes its whole blocks (a
   * whole stage only, beside another write), or else, with nothing in
   * flight (`tail`), a partial block its pieces wait for.
   */
  private pump(tail = false): void {
    const direct = this.direct;
    // Decided once: a piece written in place is not copied into the stage meanwhile. Once fill() has
    // staged a byte, no piece can be written in place before the stage is written.
    const inPlace = direct ? this.inPlace() : 0;
    if (inPlace === 0) this.fill();
    const busy = this.inFlight.length;
    if (busy >= MAX_IN_FLIGHT || this.error || !this.stages || this.inFlight[0]?.tail) return;
    if (inPlace > 0) {
      if (this.waitsForSlot(inPlace)) return;
      const p = this.queue[0]!;
      const at = this.stageStart;
      this.stageStart += inPlace;
      p.copied += inPlace;
      if (p.copied === p.buf.length) this.inStage.push(this.queue.shift()!);
      this.issue(p.buf.subarray(p.copied - inPlace, p.copied), -1, at, true);
      return this.pump();
    }
    const whole = direct ? this.staged - (this.staged % DIRECT_ALIGN) : this.staged;
    if (whole > 0) {
      if (this.waitsForSlot(whole)) return;
      // The rest (less than a block) moves to the front of a free stage, which is filled from now on.
      const at = this.stageStart;
      const written = this.cur;
      const stage = this.stages[written]!;
      this.cur = this.freeStage();
      stage.copy(this.stages[this.cur]!, 0, whole, this.staged);
      this.staged -= whole;
      this.stageStart += whole;
      this.issue(stage.subarray(0, whole), written, at, direct);
      return this.pump();
    }
    if (busy > 0 || this.inStage.length === 0) return;
    // Less than a block staged and nothing more queued, even after this turn of the event loop: its pieces
    // go to the file through the page cache, and the bytes stay staged for the direct write that will cover them.
    if (tail) return this.issue(this.stages[this.cur]!.subarray(0, this.staged), this.cur, this.stageStart, false);
    if (this.tailDue) return;
    this.tailDue = true;
    setImmediate(() => {
      this.tailDue = false;
      this.pump(true);
    });
  }

  /** Whether a write of `length` bytes waits: beside another of this writer's, only a whole stage goes, and only while few are in flight. */
  private waitsForSlot(length: number): boolean {
    return this.inFlight.length > 0 && (length < STAGE_BYTES || inFlightAll >= MAX_IN_FLIGHT);
  }

  /** A stage neither being filled nor written: there is one, as each write in flight holds at most one. */
  private freeStage(): number {
    for (let i = 0; ; i++) if (i !== this.cur && !this.inFlight.some((w) => w.stage === i)) return i;
  }

  /**
   * Bytes of the first queued piece that can be written from where they lie:
   * nothing is staged (so the file offset is aligned), its next byte is
   * aligned in memory, and at least a block of it is left (its whole blocks,
   * at most STAGE_BYTES).
   */
  private inPlace(): number {
    const p = this.queue[0];
    if (!p || this.staged !== 0 || !alignedAt(p.buf, p.copied)) return 0;
    const left = Math.min(p.buf.length - p.copied, STAGE_BYTES);
    return left - (left % DIRECT_ALIGN);
  }

  /** Copies queued pieces into the stage while it has room. */
  private fill(): void {
    if (!this.stages) return;
    const stage = this.stages[this.cur]!;
    while (this.staged < STAGE_BYTES) {
      const p = this.queue[0];
      if (!p) return;
      const n = Math.min(p.buf.length - p.copied, STAGE_BYTES - this.staged);
      // Pieces often lie in shared memory: see copyBytes.
      copyBytes(p.buf, p.copied, p.copied + n, stage, this.staged);
      p.copied += n;
      this.staged += n;
      if (p.copied === p.buf.length) this.inStage.push(this.queue.shift()!);
    }
  }

  /**
   * Writes buf at file offset `at`, directly or through the page cache. A
   * piece is called back once every byte up to its end is in the file: up to
   * the first write still in flight, or to the last issued when none is.
   */
  private issue(buf: Buffer, stage: number, at: number, direct: boolean): void {
    const w: InFlight = { at, stage, tail: direct !== this.direct };
    this.inFlight.push(w);
    inFlightAll++;
    this.issuedEnd = at + buf.length;
    this.send(w, buf, direct);
  }

  private send(w: InFlight, buf: Buffer, direct: boolean): void {
    writeAll(direct ? this.directFd : this.bufferedFd, buf, w.at, this.path, (err) => {
      if (direct && !this.error && (err?.cause as NodeJS.ErrnoException | undefined)?.code === 'EINVAL') {
        this.buffered = true;
        return this.send(w, buf, false);
      }
      this.inFlight.splice(this.inFlight.indexOf(w), 1);
      inFlightAll--;
      if (this.error) return;
      if (err) return this.fail(err);
      const inFile = this.inFlight[0]?.at ?? this.issuedEnd;
      while (this.inStage.length > 0 && this.inStage[0]!.end <= inFile) this.inStage.shift()!.done();
      this.pump();
    });
  }

  private fail(err: DecodeError): void {
    this.error = err;
    for (const p of this.inStage.splice(0)) p.done(err);
    for (const p of this.queue.splice(0)) p.done(err);
  }
}
