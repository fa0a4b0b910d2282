/**
 * Where a dump goes. The finalizing sink (./dump-sink.ts) decides what to
 * write and checks it: plans, body choice, verification, checksums. A
 * Target only writes, the way its medium wants: files in a directory tree,
 * entries of a tar stream. Paths are relative to the dump root, raw bytes
 * ('/'-separated; object keys need not be UTF-8).
 */
import type { SealedRun, Span } from '../types.js';

/** A dump's destination: writes what the sink has decided and checked. */
export interface Target {
  /**
   * Puts the whole run file as the body at rel (a directory renames it into
   * place). Resolves false when this target cannot take the file itself
   * (e.g. it is on another file system); the sink then sends the bytes
   * through putSpans instead. The sink never offers one run twice.
   * mtime (seconds since the epoch) is the object's Last-Modified, for
   * targets whose medium keeps file times; undefined when it has none.
   */
  putRun(rel: Buffer, run: SealedRun, mtime?: number): Promise<boolean>;
  /**
   * Starts a body of size bytes, the concatenation of spans. The sink reads
   * and checks the bytes; if the writer wants them it hands them over in
   * order, then commits (or aborts when the body fails verification: then
   * nothing of it may remain). mtime as for putRun.
   */
  putSpans(rel: Buffer, size: number, spans: readonly Span[], mtime?: number): Promise<BodyWriter>;
  /**
   * A file of size bytes given as pieces, each consumed once and only while
   * the file is written (sidecars and metadata: one piece; CHECKSUMS: many).
   * A piece may be overwritten once the next one is taken (CHECKSUMS is read
   * back through one buffer): a target that keeps a piece longer copies it.
   */
  putFile(rel: Buffer, size: number, pieces: Iterable<Buffer>, mode: number): Promise<void>;
  /** The bucket's files are all put: a target that orders its output may write them now. */
  endBucket(): Promise<void>;
  /** The dump is complete (after MANIFEST.json and CHECKSUMS, in that order). */
  finish(): Promise<void>;
  /** Releases what is open, after a failure or at the end. */
  close(): Promise<void>;
}

/** A body being put (Target.putSpans). */
export interface BodyWriter {
  /** Whether write() wants the bytes (a tar target queues the spans and reads them itself later). */
  readonly wantsBytes: boolean;
  /** The next bytes of the body; the buffer may be reused once the promise settles. */
  write(bytes: Buffer): Promise<void>;
  /** Every byte was written and verified: the body may appear. */
  commit(): Promise<void>;
  /** The body failed: remove whatever was written of it. */
  abort(): Promise<void>;
}
