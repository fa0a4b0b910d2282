/**
 * S3 target (SPEC §11): the dump tree as objects under `s3://BUCKET/PREFIX`,
 * keys being the tree's relative paths. Bodies and files are uploaded
 * through ObjectUpload with at most `concurrency` requests in flight; the
 * sink goes on with the next body while earlier ones upload, and a failure
 * of any of them fails the next call. A file at the dump root (MANIFEST.json,
 * then CHECKSUMS: the sink writes them last) waits for every other upload
 * first, so a dump with CHECKSUMS is complete. Closing without finish() (a
 * failure, an interrupt) waits for what is in flight, aborts multipart
 * uploads and deletes every key this run touched — the prefix held nothing
 * before (checkEmptyPrefix), so those, and only those, are this run's.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DecodeError } from '../errors.js';
import type { SealedRun, Span } from '../types.js';
import type { BodyWriter, Target } from '../sinks/target.js';
import { isNotFound, s3Error } from './client.js';
import { DEFAULT_PART_SIZE, ObjectUpload, type UploadSession } from './object-upload.js';
import { RequestPool } from './request-pool.js';
import { formatS3Url, prefixDir } from './url.js';

/** Where and how an S3 target writes. */
export interface S3TargetOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix ('' or 'a/b'; a trailing '/' is implied). */
  prefix: string;
  /** Requests in flight at once. */
  concurrency: number;
  /** Part size of multipart uploads (default 8 MiB; bodies up to it are one PUT). */
  partSize?: number;
}

const READ_BUFFER = 1 << 20;

export class S3Target implements Target {
  private readonly session: UploadSession;
  private readonly keyPrefix: string;
  /** Keys a request was sent for (a PUT cut off may still leave an object). */
  private readonly touched = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Uploads begun and not yet committed or aborted. */
  private readonly open = new Set<ObjectUpload>();
  private failure: unknown;
  private finished = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: S3TargetOptions) {
    this.keyPrefix = prefixDir(opts.prefix);
    this.session = {
      client: opts.client,
      pool: new RequestPool(opts.concurrency),
      partSize: opts.partSize ?? DEFAULT_PART_SIZE,
      onTouch: (_bucket, key) => this.touched.add(key),
    };
  }

  /** Keys written so far (for tests and the summary). */
  get keys(): ReadonlySet<string> {
    return this.touched;
  }

  /** Uploads the run file itself; its SHA-256 must be the one it got while spilling. */
  async putRun(rel: Buffer, run: SealedRun): Promise<boolean> {
    const upload = this.begin(rel, run.size);
    const reader = fs.createReadStream(run.file.path, { highWaterMark: READ_BUFFER });
    const sha = createHash('sha256');
    try {
      for await (const chunk of reader) {
        sha.update(chunk as Buffer);
        await this.write(upload, chunk as Buffer);
      }
      // CHECKSUMS lists the hash the run got as it was spilled: the bytes sent must be those.
      if (!sha.digest().equals(run.hashes.sha256)) throw new DecodeError('ERR_IO', 'scratch file changed since it was written', { path: run.file.path });
    } catch (e) {
      await this.abort(upload);
      throw e instanceof DecodeError ? e : new DecodeError('ERR_IO', `cannot read scratch file: ${(e as Error).message}`, { path: run.file.path });
    }
    await this.track(upload);
    return true;
  }

  async putSpans(rel: Buffer, size: number, _spans: readonly Span[]): Promise<BodyWriter> {
    const upload = this.begin(rel, size);
    return {
      wantsBytes: true,
      write: (bytes) => this.write(upload, bytes),
      commit: () => this.track(upload),
      abort: () => this.abort(upload),
    };
  }

  async putFile(rel: Buffer, size: number, pieces: Iterable<Buffer>, _mode: number): Promise<void> {
    // A file at the root is MANIFEST.json or CHECKSUMS: everything else must be stored first.
    const last = !rel.includes(0x2f);
    if (last) await this.drain();
    const upload = this.begin(rel, size);
    try {
      for (const piece of pieces) await this.write(upload, piece);
    } catch (e) {
      await this.abort(upload);
      throw e;
    }
    await this.track(upload);
    if (last) await this.drain();
  }

  async endBucket(): Promise<void> {
    this.throwFailure();
  }

  async finish(): Promise<void> {
    await this.drain();
    this.finished = true;
  }

  /** After finish(): nothing to do. Otherwise removes what this run created. */
  close(): Promise<void> {
    this.closing ??= this.finished ? Promise.resolve() : this.cleanUp();
    return this.closing;
  }

  private begin(rel: Buffer, size: number): ObjectUpload {
    this.throwFailure();
    const upload = new ObjectUpload(this.session, this.opts.bucket, this.keyPrefix + objectKey(rel), size);
    this.open.add(upload);
    return upload;
  }

  private async write(upload: ObjectUpload, bytes: Buffer): Promise<void> {
    this.throwFailure();
    await upload.write(bytes);
  }

  private async abort(upload: ObjectUpload): Promise<void> {
    // Kept in `open` until aborted, so a cleanup starting meanwhile waits for (and repeats) the abort.
    try {
      await upload.abort();
    } finally {
      this.open.delete(upload);
    }
  }

  /** Commits upload; its completion is waited for by drain() (and a failure fails the next call). */
  private async track(upload: ObjectUpload): Promise<void> {
    this.throwFailure();
    this.open.delete(upload);
    const { done } = await upload.commit();
    const p = done.then(
      () => {},
      (e: unknown) => {
        this.failure ??= e;
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    this.throwFailure();
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closing) throw new Error('S3 target closed');
  }

  private async cleanUp(): Promise<void> {
    await Promise.allSettled([...this.open].map((u) => u.abort()));
    this.open.clear();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    const pool = new RequestPool(this.opts.concurrency);
    const deletions: Array<Promise<unknown>> = [];
    for (const key of this.touched) {
      const { done } = await pool.start(() => this.opts.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: key })));
      deletions.push(done);
    }
    // Best effort: the failure that led here is the one reported.
    await Promise.allSettled(deletions);
  }
}

/** S3 keys are UTF-8: a path that is not cannot be named (an object-level failure, as in a tar archive). */
function objectKey(rel: Buffer): string {
  const key = rel.toString('utf8');
  if (!Buffer.from(key, 'utf8').equals(rel)) {
    throw new DecodeError('ERR_S3_MALFORMED_KEY', 'object key is not UTF-8: an S3 object key cannot name it (write a directory with -o)', {}, 'object');
  }
  return key;
}

/** The output prefix must hold no object (ERR_USAGE); a missing bucket or denied listing is ERR_S3_REQUEST. */
export async function checkEmptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  const p = prefixDir(prefix);
  let count: number;
  try {
    count = (await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: p, MaxKeys: 1 }))).KeyCount ?? 0;
  } catch (e) {
    const err = s3Error(e, 'ListObjectsV2', bucket, p);
    throw isNotFound(e) ? new DecodeError('ERR_S3_REQUEST', `the bucket does not exist: ${bucket}`, { path: formatS3Url(bucket, p) }, 'run', { cause: e }) : err;
  }
  if (count > 0) throw new DecodeError('ERR_USAGE', `output prefix is not empty: ${formatS3Url(bucket, p)} holds objects (give an empty prefix)`);
}
