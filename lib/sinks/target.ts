/**
 * Where a dump goes. The finalizing sink decides what to write (plans,
 * verification outcomes, checksums); a Target decides how: files in a
 * directory tree, or entries of a tar stream.
 */
import type { DecodeError } from '../errors.js';
import type { ObjectPlan } from '../core/plan.js';

export interface Target {
  /**
   * Verifies an object's body (§5.6, when verify is on) and puts it at rel;
   * returns its SHA-256, or the verification error (then nothing is written).
   */
  body(rel: Buffer, obj: ObjectPlan, verify: boolean, ctx: { bucket: Buffer; object: Buffer }): Promise<Buffer | DecodeError>;
  /** A file with these bytes (sidecars, _bucket.json, KEYMAP.jsonl, …). */
  file(rel: Buffer, data: Buffer, mode: number): Promise<void>;
  /**
   * A file of size bytes given as pieces, each consumed once and only while
   * the file is written (CHECKSUMS: too large to hold whole for big dumps).
   */
  fileInPieces(rel: Buffer, size: number, pieces: Iterable<Buffer>, mode: number): Promise<void>;
  /** The bucket's files are all announced: a target that orders its output may now write them. */
  endBucket(): Promise<void>;
  /** The dump is complete (after MANIFEST.json and CHECKSUMS, in that order). */
  finish(): Promise<void>;
  /** Releases open files after a failure or at the end. */
  close(): Promise<void>;
}
