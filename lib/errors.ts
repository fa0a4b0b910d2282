/**
 * Typed errors with the stable codes of SPEC §8. Every error the tool raises
 * on purpose is a DecodeError; anything else reaching the CLI is a bug or an
 * unexpected I/O failure and is wrapped as ERR_IO.
 *
 * The one convention (lib/core included): bad input is a DecodeError with
 * its code and the context the function knows (callers pass theirs in:
 * line, offset, bucket, object). A function that produces one value throws
 * it. A function whose answer is "which problem, if any" (checkEtags) or
 * that decides about many items independently (assignObjectPaths) returns
 * the DecodeError as a value (`DecodeError | undefined`, `T | DecodeError`,
 * told apart with instanceof), so one bad item stops nothing else and no
 * caller needs try/catch. Never a bare reason string, `| null` for an error
 * or an {ok, error} wrapper; `undefined` alone means absent, not wrong
 * (parseU64Decimal, hlcToTime). Misuse of an API by the caller (a commit_ts
 * outside uint64 handed to the encoder) throws RangeError/Error instead.
 * The Go-JSON reader throws GoJsonError, which its callers turn into the
 * DecodeError for the record they were reading.
 */
import { printable } from './core/printable.js';

/** Every error code the tool can report (SPEC §8). */
export const ERROR_CODES = [
  'ERR_USAGE',
  'ERR_IO',
  'ERR_JSONL_LINE',
  'ERR_SNAPSHOT_BAD_MAGIC',
  'ERR_SNAPSHOT_UNSUPPORTED',
  'ERR_SNAPSHOT_UNKNOWN_HEADER',
  'ERR_SNAPSHOT_TRUNCATED',
  'ERR_SNAPSHOT_CORRUPT',
  'ERR_SNAPSHOT_CRC_MISMATCH',
  'ERR_SNAPSHOT_ENCRYPTED',
  'ERR_SNAPSHOT_RESERVED_FLAGS',
  'ERR_S3_MALFORMED_KEY',
  'ERR_S3_INVALID_BUCKET_META',
  'ERR_S3_INVALID_MANIFEST',
  'ERR_S3_INVALID_CHUNKREF',
  'ERR_S3_CHUNKBLOB_HASH_MISMATCH',
  'ERR_S3_INCOMPLETE_BLOB_CHUNKS',
  'ERR_S3_META_SUFFIX_COLLISION',
  'ERR_S3_RESERVED_NAME',
  'ERR_S3_PATH_CONFLICT',
  'ERR_S3_SIZE_MISMATCH',
  'ERR_S3_ETAG_MISMATCH',
  // ekv-s3-encode / ekv-s3-verify (SPEC §12, §13): a dump that is not whole
  // or not restorable, and a written snapshot that does not decode back.
  'ERR_DUMP_INVALID',
  'ERR_SELF_TEST_MISMATCH',
  // Whole-cluster inputs (SPEC §10, §11)
  'ERR_CATALOG_INVALID',
  'ERR_OFFLOAD_MANIFEST',
  'ERR_OFFLOAD_INTEGRITY',
  // §11 object storage: a request the server refused or failed (after retries),
  // and an upload whose returned ETag or size is not what was sent.
  'ERR_S3_REQUEST',
  'ERR_S3_UPLOAD_MISMATCH',
] as const;

/** One of ERROR_CODES. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where an error happened; every field is optional and printed when set. */
export interface ErrorContext {
  /** 1-based JSONL line number. */
  line?: number;
  /** Byte offset in a native snapshot. */
  offset?: number;
  /** Raw record key. */
  key?: Buffer;
  bucket?: Buffer;
  object?: Buffer;
  /** Filesystem path involved (I/O errors). */
  path?: string;
}

/**
 * An object-level error (SPEC §8) can be skipped under --keep-going; a
 * run-level one always fails the run.
 */
export type ErrorLevel = 'run' | 'object';

/** The one error type of the tool: a stable code (SPEC §8), a level (run or object) and the context that names the record, object, line or byte offset. */
export class DecodeError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;
  readonly level: ErrorLevel;
  /** The message without the context prefix, for _skipped.jsonl details. */
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, context: ErrorContext = {}, level: ErrorLevel = 'run', options?: { cause?: unknown }) {
    super(formatMessage(detail, context), options);
    this.name = 'DecodeError';
    this.code = code;
    this.context = context;
    this.level = level;
    this.detail = detail;
  }
}

function formatMessage(detail: string, c: ErrorContext): string {
  const where: string[] = [];
  if (c.line !== undefined) where.push(`line ${c.line}`);
  if (c.offset !== undefined) where.push(`byte offset ${c.offset}`);
  if (c.bucket !== undefined) where.push(`bucket ${printable(c.bucket)}`);
  if (c.object !== undefined) where.push(`object ${printable(c.object)}`);
  if (c.key !== undefined) where.push(`key ${printable(c.key)}`);
  if (c.path !== undefined) where.push(`path ${c.path}`);
  return where.length ? `${where.join(' ')}: ${detail}` : detail;
}

/** Wraps a Node system error (ENOSPC, EACCES, …) as ERR_IO naming the path. */
export function ioError(err: unknown, path: string, what = 'I/O error'): DecodeError {
  if (err instanceof DecodeError) return err;
  const e = err as NodeJS.ErrnoException;
  const sys = e && typeof e === 'object' && e.code ? `${e.code}: ` : '';
  const msg = e && typeof e === 'object' && 'message' in e ? String(e.message).replace(/^[A-Z]+: /, '') : String(err);
  return new DecodeError('ERR_IO', `${what}: ${sys}${msg}`, { path }, 'run', { cause: err });
}

/** Whether err is a DecodeError (also across module copies). */
export function isDecodeError(err: unknown): err is DecodeError {
  return err instanceof DecodeError;
}
