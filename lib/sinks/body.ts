/**
 * An object's body as the sink handles it: where its bytes come from
 * (chooseBody: the run file that is exactly the body, or its chunks' spans),
 * reading spans from scratch while hashing them (streamBody), and the ETag
 * check of §5.6 (verifyBody), fed either by the hashes a run got as it was
 * spilled (runMd5s: no byte read again) or by streamBody's.
 */
import { createHash, type Hash } from 'node:crypto';
import { DecodeError } from '../errors.js';
import { digestOf } from '../core/digest.js';
import { allocSmall } from '../core/slab.js';
import { checkEtags, needsBodyMd5 } from '../core/etag.js';
import type { ObjectPlan } from '../core/plan.js';
import type { PositionedReader } from '../io/positioned-reader.js';
import type { SealedRun, SealedRuns, Span } from '../types.js';

const EMPTY_MD5 = digestOf('md5', new Uint8Array(0));
const COPY_BUFFER = 1 << 20;
/** A body up to this size is read whole and hashed in one call per digest (see smallBody). */
const SMALL_BODY = 64 * 1024;

/** Where a body's bytes are: always its spans; and the run file when that is exactly the body. */
export interface BodySource {
  spans: Span[];
  run?: SealedRun;
}

/** The MD5s the ETag check needs: one per planned part (body order), and the whole body's when its ETag is a plain MD5. */
export interface BodyMd5s {
  parts: Buffer[];
  body?: Buffer;
}

/** What streamBody computed. */
export interface BodyDigest {
  sha256: Buffer;
  /** Present when MD5s were asked for. */
  md5s?: BodyMd5s;
}

/**
 * The one decision on a body's source: the sealed run whose every byte, in
 * order, is exactly this body (published whole, e.g. by rename) unless that
 * run was used already, else the spans.
 */
export function chooseBody(obj: ObjectPlan, runs: SealedRuns, used: ReadonlySet<number>): BodySource {
  const spans = bodySpans(obj.parts);
  const run = wholeRun(spans, runs);
  return run && !used.has(run.file.id) ? { spans, run } : { spans };
}

/** The spans of a body's parts in order (a one-part body's own array: no copy per small object). */
export function bodySpans(parts: ReadonlyArray<{ spans: Span[] }>): Span[] {
  return parts.length === 1 ? parts[0]!.spans : parts.flatMap((p) => p.spans);
}

function wholeRun(spans: readonly Span[], runs: SealedRuns): SealedRun | undefined {
  const file = spans[0]?.file;
  if (!file || file.kind !== 'run') return undefined;
  const run = runs.get(file.id);
  // An empty SHA-256: hashing failed, and the run cannot be trusted whole.
  if (!run || run.hashes.sha256.length === 0) return undefined;
  let offset = 0;
  for (const s of spans) {
    if (s.file.id !== file.id || s.offset !== offset) return undefined;
    offset += s.length;
  }
  return offset === run.size ? run : undefined;
}

/** The §5.6 ETag check of a body whose MD5s are known: null when it passes. */
export function verifyBody(obj: ObjectPlan, md5s: BodyMd5s, ctx: { bucket: Buffer; object: Buffer }): DecodeError | null {
  const parts = obj.parts.map((p, i) => ({ partNo: p.partNo, etag: p.etag, md5: md5s.parts[i]! }));
  return checkEtags(obj.manifest.etag, parts, md5s.body, ctx) ?? null;
}

/**
 * The MD5s of a body that is one whole run, from the hashes the run got as
 * it was spilled: each non-empty part is one stretch of the run. A
 * plain-MD5 ETag needs the whole body's MD5: a one-stretch run's is that
 * stretch's; a multipart run's ETag is normally composite (part MD5s only),
 * so its whole-body MD5 is not computed while spilling and, in the rare case
 * it is needed, is read back from the run file (lib/core/run-digest.ts).
 */
export async function runMd5s(obj: ObjectPlan, run: SealedRun, reader: PositionedReader): Promise<BodyMd5s> {
  const stretches = run.hashes.parts;
  let stretch = 0;
  const parts = obj.parts.map((p) => (p.spans.length === 0 ? EMPTY_MD5 : stretches[stretch++]!.md5!));
  if (!needsBodyMd5(obj.manifest.etag)) return { parts };
  const body = stretches.length <= 1 ? (stretches[0]?.md5 ?? EMPTY_MD5) : (await streamBody([{ spans: [{ file: run.file, offset: 0, length: run.size }] }], reader, { md5: true })).md5s!.parts[0]!;
  return { parts, body };
}

/**
 * Reads a body's spans from scratch, part by part, hashing the bytes
 * (SHA-256 always; with md5 each part's MD5 and, when etag is a plain MD5,
 * the whole body's) and handing each piece to `write` (absent: a hash-only
 * pass). Lets the event loop run between reads (signals).
 */
export async function streamBody(
  parts: ReadonlyArray<{ spans: readonly Span[] }>,
  reader: PositionedReader,
  opts: { md5: boolean; etag?: string },
  write?: (bytes: Buffer) => Promise<void>,
): Promise<BodyDigest> {
  const wholeMd5 = opts.md5 && opts.etag !== undefined && needsBodyMd5(opts.etag);
  let size = 0;
  for (const part of parts) for (const s of part.spans) size += s.length;
  if (size <= SMALL_BODY) return smallBody(parts, size, reader, opts.md5, wholeMd5, write);
  const sha = createHash('sha256');
  // A lone part's MD5 is the body's: no second MD5 pass over the same bytes.
  const whole: Hash | undefined = wholeMd5 && parts.length > 1 ? createHash('md5') : undefined;
  const partMd5s: Buffer[] = [];
  const buf = Buffer.allocUnsafe(Math.min(COPY_BUFFER, Math.max(size, 1)));
  for (const part of parts) {
    const md5 = opts.md5 ? createHash('md5') : undefined;
    for (const span of part.spans) {
      for (let off = 0; off < span.length; off += buf.length) {
        const n = Math.min(buf.length, span.length - off);
        reader.read(span.file.path, buf, n, span.offset + off);
        const view = buf.subarray(0, n);
        sha.update(view);
        md5?.update(view);
        whole?.update(view);
        if (write) await write(view);
        else if (n === buf.length) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (md5) partMd5s.push(md5.digest());
  }
  const digest: BodyDigest = { sha256: sha.digest() };
  if (opts.md5) digest.md5s = md5sOf(partMd5s, wholeMd5, () => whole?.digest() ?? EMPTY_MD5);
  return digest;
}

/** The MD5s of a body read from its parts: each part's, and the body's when wanted — a lone part's own (as runMd5s takes a one-stretch run's). */
function md5sOf(parts: Buffer[], wantBody: boolean, body: () => Buffer): BodyMd5s {
  if (!wantBody) return { parts };
  return { parts, body: parts.length === 1 ? parts[0]! : body() };
}

/**
 * streamBody for a small body: read whole, each digest one call
 * (lib/core/digest.ts: per 1 KiB object, 3.1 µs for SHA-256 and MD5
 * against 7.1–7.6 µs through Hash objects), handed over in one piece.
 */
async function smallBody(
  parts: ReadonlyArray<{ spans: readonly Span[] }>,
  size: number,
  reader: PositionedReader,
  md5: boolean,
  wholeMd5: boolean,
  write: ((bytes: Buffer) => Promise<void>) | undefined,
): Promise<BodyDigest> {
  const body = allocSmall(size);
  const partMd5s: Buffer[] = [];
  let at = 0;
  for (const part of parts) {
    const start = at;
    for (const span of part.spans) {
      reader.read(span.file.path, body.subarray(at), span.length, span.offset);
      at += span.length;
    }
    if (md5) partMd5s.push(digestOf('md5', body.subarray(start, at)));
  }
  if (write && size > 0) await write(body);
  const digest: BodyDigest = { sha256: digestOf('sha256', body) };
  if (md5) digest.md5s = md5sOf(partMd5s, wholeMd5, () => digestOf('md5', body));
  return digest;
}
