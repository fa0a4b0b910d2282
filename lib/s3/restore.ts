/**
 * restore-objects (SPEC §11): every object of a dump put back as a real S3
 * object at its original key, with its sidecar's headers and user metadata.
 * Resumable: an existing object whose size and ETag already match is
 * skipped (--overwrite puts it anyway). Each upload is checked (the ETag of
 * every request against the MD5 of what was sent, then the stored size);
 * the body itself is checked against its sidecar first (size; a plain ETag
 * must be its MD5). An object whose original ETag is multipart (`H-N`)
 * cannot get that ETag back from a plain upload: it is verified by the MD5
 * of its body, and counted as such. One object's failure does not stop the
 * others; the summary counts put, skipped and failed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DecodeError } from '../errors.js';
import { httpStatus, s3Error } from './client.js';
import { bucketObjects, listDumpBuckets, type DumpObject } from './dump-source.js';
import { DEFAULT_PART_SIZE, ObjectUpload, type ObjectHeaders, type UploadSession } from './object-upload.js';
import { RequestPool } from './request-pool.js';
import { encodeMetadataValue } from './rfc2047.js';
import { formatS3Url, prefixDir } from './url.js';

/** What to restore where. */
export interface RestoreOptions {
  client: S3Client;
  /** The dump directory. */
  source: string;
  /** Destination bucket and key prefix of every restored bucket not sent elsewhere by `map`. */
  bucket: string;
  prefix: string;
  /** Restore only these buckets (names). */
  buckets?: string[];
  /** Source bucket name → destination bucket. */
  map?: Map<string, string>;
  overwrite?: boolean;
  concurrency: number;
  /** Called after each object. */
  onObject?: (r: ObjectOutcome, counts: RestoreSummary) => void;
  /**
   * Stops the restore: no object is started after it fires, bodies being
   * sent are dropped (a multipart upload is aborted), and restoreObjects
   * rejects with the signal's reason. Objects already put stay: a rerun
   * skips them.
   */
  signal?: AbortSignal;
}

/** What happened to one object. */
export interface ObjectOutcome {
  bucket: string;
  key: string;
  destination: string;
  result: 'put' | 'skipped' | 'failed';
  error?: DecodeError;
}

/** The counts of a restore. */
export interface RestoreSummary {
  put: number;
  skipped: number;
  failed: number;
  /** Objects (put or skipped) whose original ETag was multipart, verified by the MD5 of their body. */
  verifiedByMd5: number;
  bytes: number;
}

const MULTIPART_ETAG = /^[0-9a-f]{32}-\d+$/;

/** Restores every selected object; resolves with the counts (failures are counted and reported through onObject, not thrown). */
export async function restoreObjects(o: RestoreOptions): Promise<RestoreSummary> {
  const buckets = listDumpBuckets(o.source).filter((b) => !o.buckets || o.buckets.includes(b.name));
  for (const name of o.buckets ?? []) if (!buckets.some((b) => b.name === name)) throw new DecodeError('ERR_USAGE', `no bucket ${JSON.stringify(name)} in the dump`);
  for (const src of o.map?.keys() ?? []) if (!buckets.some((b) => b.name === src)) throw new DecodeError('ERR_USAGE', `--map ${src}=…: no bucket ${JSON.stringify(src)} restored from the dump`);
  const destinations = new Map<string, string>();
  for (const b of buckets) {
    const dest = o.map?.get(b.name) ?? o.bucket;
    const other = destinations.get(dest);
    if (other !== undefined) throw new DecodeError('ERR_USAGE', `buckets ${JSON.stringify(other)} and ${JSON.stringify(b.name)} would both be restored into s3://${dest}: select one with --bucket, or send one elsewhere with --map SRC=DEST`);
    destinations.set(dest, b.name);
  }
  for (const dest of destinations.keys()) await checkBucket(o.client, dest);
  const session: UploadSession = { client: o.client, pool: new RequestPool(o.concurrency), partSize: DEFAULT_PART_SIZE };
  const counts: RestoreSummary = { put: 0, skipped: 0, failed: 0, verifiedByMd5: 0, bytes: 0 };
  const prefix = prefixDir(o.prefix);
  const objects = (function* () {
    for (const b of buckets) for (const obj of bucketObjects(b)) yield { obj, bucket: o.map?.get(b.name) ?? o.bucket };
  })();
  // `concurrency` objects at a time; their requests share the pool.
  const worker = async () => {
    for (let next = objects.next(); !next.done; next = objects.next()) {
      const { obj, bucket } = next.value;
      const key = prefix + obj.key.toString('utf8');
      const outcome: ObjectOutcome = { bucket: obj.bucket, key: obj.key.toString('utf8'), destination: formatS3Url(bucket, key), result: 'failed' };
      if (o.signal?.aborted) return;
      try {
        outcome.result = await restoreOne(session, obj, bucket, key, o.overwrite ?? false, counts, o.signal);
      } catch (e) {
        if (o.signal?.aborted) return; // not the object's failure
        outcome.error = e instanceof DecodeError ? e : s3Error(e, 'restore', bucket, key);
      }
      counts[outcome.result]++;
      o.onObject?.(outcome, counts);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  o.signal?.throwIfAborted();
  return counts;
}

async function restoreOne(session: UploadSession, obj: DumpObject, bucket: string, key: string, overwrite: boolean, counts: RestoreSummary, signal?: AbortSignal): Promise<'put' | 'skipped'> {
  const where = { path: formatS3Url(bucket, key) };
  if (!Buffer.from(obj.key.toString('utf8')).equals(obj.key)) throw new DecodeError('ERR_S3_MALFORMED_KEY', 'object key is not UTF-8: an S3 key cannot name it', where, 'object');
  const sc = obj.sidecar;
  const size = fs.statSync(obj.bodyPath).size;
  if (size !== sc.size) throw new DecodeError('ERR_S3_SIZE_MISMATCH', `body is ${size} bytes, its sidecar says ${sc.size}`, { path: obj.bodyPath }, 'object');
  const multipart = MULTIPART_ETAG.test(sc.etag);
  const md5 = await fileMd5(obj.bodyPath);
  if (!multipart && md5 !== sc.etag) throw new DecodeError('ERR_S3_ETAG_MISMATCH', `body MD5 ${md5} is not its sidecar's ETag ${sc.etag}`, { path: obj.bodyPath }, 'object');
  if (!overwrite) {
    const existing = await head(session.client, bucket, key);
    // A plain upload's ETag is the body's MD5; a server keeping multipart ETags may have the original one.
    if (existing && existing.size === size && (existing.etag === md5 || existing.etag === sc.etag)) {
      if (multipart) counts.verifiedByMd5++;
      return 'skipped';
    }
  }
  const upload = new ObjectUpload(session, bucket, key, size, headersOf(obj, where));
  try {
    for await (const chunk of fs.createReadStream(obj.bodyPath, { highWaterMark: 1 << 20 })) {
      signal?.throwIfAborted();
      await upload.write(chunk as Buffer);
    }
    signal?.throwIfAborted();
  } catch (e) {
    await upload.abort();
    throw e instanceof DecodeError ? e : new DecodeError('ERR_IO', `cannot read body: ${(e as Error).message}`, { path: obj.bodyPath }, 'object');
  }
  const result = await (await upload.commit()).done;
  if (result.md5.toString('hex') !== md5) throw new DecodeError('ERR_S3_UPLOAD_MISMATCH', 'the body changed while it was uploaded', where, 'object');
  const stored = await head(session.client, bucket, key);
  if (stored?.size !== size) throw new DecodeError('ERR_S3_UPLOAD_MISMATCH', `stored ${stored?.size ?? 'nothing'} bytes of ${size}`, where, 'object');
  if (multipart) counts.verifiedByMd5++;
  counts.bytes += size;
  return 'put';
}

function headersOf(obj: DumpObject, where: { path: string }): ObjectHeaders {
  const sc = obj.sidecar;
  const h: ObjectHeaders = {};
  if (sc.contentType !== undefined) h.contentType = sc.contentType;
  if (sc.contentEncoding !== undefined) h.contentEncoding = sc.contentEncoding;
  if (sc.cacheControl !== undefined) h.cacheControl = sc.cacheControl;
  if (sc.contentDisposition !== undefined) h.contentDisposition = encodeMetadataValue(sc.contentDisposition);
  const names = Object.keys(sc.userMetadata);
  if (names.length > 0) {
    h.metadata = {};
    for (const n of names) {
      // A header name is an ASCII token: no encoding can carry another one.
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(n)) throw new DecodeError('ERR_S3_MALFORMED_KEY', `user metadata name ${JSON.stringify(n)} cannot be sent as an HTTP header`, where, 'object');
      h.metadata[n] = encodeMetadataValue(sc.userMetadata[n]!);
    }
  }
  return h;
}

async function head(client: S3Client, bucket: string, key: string): Promise<{ size: number; etag: string } | undefined> {
  try {
    const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: out.ContentLength ?? -1, etag: (out.ETag ?? '').replace(/^"|"$/g, '') };
  } catch (e) {
    if (httpStatus(e) === 404) return undefined;
    throw s3Error(e, 'HeadObject', bucket, key);
  }
}

/** Buckets are not created: a missing one is an error before any upload. */
async function checkBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if (httpStatus(e) === 404) throw new DecodeError('ERR_S3_REQUEST', `the bucket does not exist: ${bucket}`, { path: formatS3Url(bucket, '') }, 'run', { cause: e });
    throw s3Error(e, 'HeadBucket', bucket, '');
  }
}

async function fileMd5(file: string): Promise<string> {
  const h = createHash('md5');
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } catch (e) {
    throw new DecodeError('ERR_IO', `cannot read body: ${(e as Error).message}`, { path: file }, 'object');
  }
  return h.digest('hex');
}
