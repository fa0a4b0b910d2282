/**
 * A target that writes no dump, only its CHECKSUMS, to one file: for the
 * encoder's self-test (SPEC §12), which compares a decoded snapshot's
 * CHECKSUMS with the input dump's. The finalizing sink still plans,
 * verifies and hashes every file (a body is read once, hash-only, as for
 * a tar target); only the writing is skipped — no tree of two files per
 * object to create and then remove, no tar stream to frame and parse.
 */
import { ioError } from '../errors.js';
import { writeNewFileSync } from '../io/fs-callbacks.js';
import type { Span } from '../types.js';
import { DumpSink, type DumpSinkOptions } from './dump-sink.js';
import type { BodyWriter, Target } from './target.js';

const CHECKSUMS = 'CHECKSUMS';

/** Every body's writer: nothing to write, commit or undo (one for all objects, not one each). */
const DISCARD: BodyWriter = { wantsBytes: false, write: async () => {}, commit: async () => {}, abort: async () => {} };

/** Writes CHECKSUMS to `file` (created, must not exist); everything else is dropped. */
export class ChecksumsOnlyTarget implements Target {
  constructor(private readonly file: string) {}

  /** A run's SHA-256 is known from spilling: nothing to read. */
  async putRun(): Promise<boolean> {
    return true;
  }

  async putSpans(_rel: Buffer, _size: number, _spans: readonly Span[]): Promise<BodyWriter> {
    return DISCARD;
  }

  async putFile(rel: Buffer, _size: number, pieces: Iterable<Buffer>): Promise<void> {
    if (rel.toString('latin1') !== CHECKSUMS) return;
    try {
      // Pieces of about 1 MiB, each consumed once (lib/core/checksums.ts): the list is never held whole.
      writeNewFileSync(this.file, pieces, 0o600, false);
    } catch (e) {
      throw ioError(e, this.file, 'cannot write');
    }
  }

  async endBucket(): Promise<void> {}

  async finish(): Promise<void> {}

  async close(): Promise<void> {}
}

/** The finalizing sink of a decode that keeps only CHECKSUMS, written to `file`. */
export function createChecksumsSink(file: string, opts: DumpSinkOptions): DumpSink {
  return new DumpSink(new ChecksumsOnlyTarget(file), opts);
}
