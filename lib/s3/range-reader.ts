/**
 * A snapshot object read from S3 as a stream (SPEC §11): HeadObject for its
 * size and ETag, then ranged GETs of RANGE_BYTES each, every one pinned to
 * that ETag (If-Match) so a concurrent overwrite fails the read instead of
 * mixing two objects. A GET that fails or is cut off is retried from the
 * first byte not yet delivered, with backoff; the object is never
 * downloaded whole before decoding starts, and only what the consumer asks
 * for is fetched (Readable.from honours backpressure).
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DecodeError } from '../errors.js';
import { createS3Client, httpStatus, s3Error, type S3Options } from './client.js';
import { formatS3Url } from './url.js';

/** Bytes asked for by one GET. */
export const RANGE_BYTES = 16 << 20;

/** How a range reader reads. */
export interface RangeReaderOptions {
  rangeBytes?: number;
  /** Attempts per range after a transient failure (default 5). */
  attempts?: number;
  /** First backoff (doubles each attempt; default 200 ms). */
  backoffMs?: number;
  /** Only bytes [start, end) of the object (default: all of it). */
  start?: number;
  end?: number;
}

/** What HeadObject said of the object. */
export interface ObjectInfo {
  size: number;
  etag: string;
}

/** Size and ETag of s3://bucket/key (ERR_S3_REQUEST naming it when it cannot be read). */
export async function headObject(client: S3Client, bucket: string, key: string): Promise<ObjectInfo> {
  try {
    const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: out.ContentLength ?? 0, etag: out.ETag ?? '' };
  } catch (e) {
    if (httpStatus(e) === 404) throw new DecodeError('ERR_S3_REQUEST', 'HeadObject failed: no such object (or bucket)', { path: formatS3Url(bucket, key) }, 'run', { cause: e });
    throw s3Error(e, 'HeadObject', bucket, key);
  }
}

/** Whether a failed GET may succeed if tried again: network errors, throttling, 5xx. */
function transient(err: unknown): boolean {
  if (err instanceof DecodeError) return false;
  const status = httpStatus(err);
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/** The bytes of s3://bucket/key (or of opts' range of it) as a stream. */
export async function openS3Object(client: S3Client, bucket: string, key: string, opts: RangeReaderOptions = {}): Promise<{ stream: Readable; info: ObjectInfo }> {
  const info = await headObject(client, bucket, key);
  return { stream: Readable.from(ranges(client, bucket, key, info, opts), { objectMode: false }), info };
}

/** Like openS3Object, with a client of its own that goes when the stream closes. */
export async function streamS3Object(s3: S3Options, bucket: string, key: string, opts: RangeReaderOptions = {}): Promise<Readable> {
  const client = createS3Client(s3);
  try {
    const { stream } = await openS3Object(client, bucket, key, opts);
    stream.once('close', () => client.destroy());
    return stream;
  } catch (e) {
    client.destroy();
    throw e;
  }
}

async function* ranges(client: S3Client, bucket: string, key: string, info: ObjectInfo, opts: RangeReaderOptions): AsyncGenerator<Buffer> {
  const rangeBytes = opts.rangeBytes ?? RANGE_BYTES;
  const attempts = opts.attempts ?? 5;
  let pos = opts.start ?? 0;
  const last = Math.min(opts.end ?? info.size, info.size);
  while (pos < last) {
    const end = Math.min(pos + rangeBytes, last);
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${pos}-${end - 1}`, ...(info.etag ? { IfMatch: info.etag } : {}) }));
        for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
          const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          // A server that ignores Range sends more: never deliver past the range.
          const take = b.subarray(0, end - pos);
          if (take.length > 0) {
            pos += take.length;
            yield take;
          }
          if (pos >= end) break;
        }
        if (pos < end) throw Object.assign(new Error(`range ended at byte ${pos} of ${end}`), { code: 'ECONNRESET' });
        break;
      } catch (e) {
        if (attempt >= attempts || !transient(e)) {
          if (httpStatus(e) === 412) throw new DecodeError('ERR_S3_REQUEST', 'GetObject failed: the object changed while it was read (its ETag is no longer the one read first)', { path: formatS3Url(bucket, key), offset: pos }, 'run', { cause: e });
          throw s3Error(e, `GetObject (bytes ${pos}-${end - 1}, attempt ${attempt})`, bucket, key);
        }
        await sleep((opts.backoffMs ?? 200) * 2 ** (attempt - 1));
      }
    }
  }
}
