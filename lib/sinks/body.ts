/**
 * Body assembly for the sinks: checks an object's ETags and produces its
 * bytes' SHA-256, either from the hashes of the run file that is exactly the
 * body (no byte is read again) or by copying the selected chunk ranges from
 * scratch into a new file while hashing them.
 */
import { createHash, type Hash } from 'node:crypto';
import fsp, { type FileHandle } from 'node:fs/promises';
import { CREATE_NEW } from '../io/fs-callbacks.js';
import type { PositionedReader } from '../io/positioned-reader.js';
import { DecodeError, ioError } from '../errors.js';
import { checkEtags, needsBodyMd5 } from '../core/etag.js';
import type { ObjectPlan } from '../core/plan.js';

const EMPTY_MD5 = createHash('md5').digest();
const COPY_BUFFER = 1 << 20;

/** Bodies up to this size are assembled in memory (bounded) and written in one go. */
export const SMALL_BODY_BYTES = 1 << 20;

/**
 * The ETag check of §5.6 for a body published from its run's hashes. A
 * plain-MD5 ETag needs the whole body's MD5: a one-stretch run's is that
 * stretch's; a multipart run's ETag is normally composite (part MD5s only),
 * so its whole-body MD5 is not computed while spilling and, in the rare case
 * it is needed, is read back from the run file (lib/core/run-digest.ts).
 */
export async function verifyRun(obj: ObjectPlan, reader: PositionedReader, ctx: { bucket: Buffer; object: Buffer }): Promise<DecodeError | null> {
  const run = obj.run!;
  const stretches = run.hashes!.parts;
  let stretch = 0;
  const parts = obj.parts.map((p) => {
    if (p.pieces.length === 0) return { partNo: p.partNo, etag: p.etag, md5: EMPTY_MD5 };
    return { partNo: p.partNo, etag: p.etag, md5: stretches[stretch++]!.md5! };
  });
  let bodyMd5: Buffer | undefined;
  if (needsBodyMd5(obj.manifest.etag)) {
    bodyMd5 = stretches.length <= 1 ? (stretches[0]?.md5 ?? EMPTY_MD5) : await md5OfFile(run.path, obj.size, reader);
  }
  return etagError(obj, parts, bodyMd5, ctx);
}

/** MD5 of a scratch file's first `size` bytes, letting the event loop run between reads (signals). */
async function md5OfFile(file: string, size: number, reader: PositionedReader): Promise<Buffer> {
  const md5 = createHash('md5');
  const buf = Buffer.allocUnsafe(Math.min(COPY_BUFFER, Math.max(size, 1)));
  for (let off = 0; off < size; off += buf.length) {
    const n = Math.min(buf.length, size - off);
    reader.read(file, buf, n, off);
    md5.update(buf.subarray(0, n));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return md5.digest();
}

function etagError(obj: ObjectPlan, parts: Array<{ partNo: bigint; etag: string; md5: Buffer }>, bodyMd5: Buffer | undefined, ctx: { bucket: Buffer; object: Buffer }): DecodeError | null {
  return checkEtags(obj.manifest.etag, parts, bodyMd5, ctx) ?? null;
}

/**
 * Reads an object's body from scratch, piece by piece, hashing it (SHA-256
 * always; with verify also the MD5s of §5.6) and handing each piece to
 * `consume` (which may be absent for a hash-only pass). Returns the SHA-256,
 * or the ETag error when verification fails.
 */
export async function streamBody(
  obj: ObjectPlan,
  reader: PositionedReader,
  verify: boolean,
  ctx: { bucket: Buffer; object: Buffer },
  consume?: (bytes: Buffer) => Promise<void>,
): Promise<Buffer | DecodeError> {
  const sha = createHash('sha256');
  const whole: Hash | undefined = verify && needsBodyMd5(obj.manifest.etag) ? createHash('md5') : undefined;
  const partMd5s: Array<{ partNo: bigint; etag: string; md5: Buffer }> = [];
  const buf = Buffer.allocUnsafe(Math.min(COPY_BUFFER, Math.max(obj.size, 1)));
  for (const part of obj.parts) {
    const md5 = verify ? createHash('md5') : undefined;
    for (const loc of part.pieces) {
      for (let off = 0; off < loc.length; off += buf.length) {
        const n = Math.min(buf.length, loc.length - off);
        reader.read(loc.segment.path, buf, n, loc.offset + off);
        const view = buf.subarray(0, n);
        sha.update(view);
        md5?.update(view);
        whole?.update(view);
        if (consume) await consume(view);
      }
    }
    if (md5) partMd5s.push({ partNo: part.partNo, etag: part.etag, md5: md5.digest() });
  }
  const err = verify ? etagError(obj, partMd5s, whole?.digest(), ctx) : null;
  return err ?? sha.digest();
}

/**
 * Reads a small body (≤ SMALL_BODY_BYTES) from scratch into memory, hashing
 * and verifying it, so it can be written with one write and no tmp file: a
 * body that fails verification never reaches the output.
 */
export async function readSmallBody(
  obj: ObjectPlan,
  reader: PositionedReader,
  verify: boolean,
  ctx: { bucket: Buffer; object: Buffer },
): Promise<{ data: Buffer; sha256: Buffer } | DecodeError> {
  const data = Buffer.allocUnsafe(obj.size);
  let at = 0;
  const result = await streamBody(obj, reader, verify, ctx, async (bytes) => {
    bytes.copy(data, at);
    at += bytes.length;
  });
  return result instanceof DecodeError ? result : { data, sha256: result };
}

/**
 * Writes the body to a new file at dest by copying its chunks from scratch
 * while hashing them; on a verification error the file is removed and the
 * error returned.
 */
export async function copyBody(
  obj: ObjectPlan,
  dest: string,
  reader: PositionedReader,
  verify: boolean,
  ctx: { bucket: Buffer; object: Buffer },
): Promise<Buffer | DecodeError> {
  let out: FileHandle;
  try {
    out = await fsp.open(dest, CREATE_NEW, 0o600);
  } catch (e) {
    throw ioError(e, dest, 'cannot create');
  }
  let position = 0;
  let result: Buffer | DecodeError;
  try {
    result = await streamBody(obj, reader, verify, ctx, async (bytes) => {
      await writeFully(out, bytes, position, dest);
      position += bytes.length;
    });
  } finally {
    await out.close();
  }
  if (result instanceof DecodeError) await fsp.rm(dest, { force: true });
  return result;
}

async function writeFully(h: FileHandle, buf: Buffer, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    try {
      const { bytesWritten } = await h.write(buf, done, buf.length - done, position + done);
      done += bytesWritten;
    } catch (e) {
      throw ioError(e, path, 'cannot write');
    }
  }
}
