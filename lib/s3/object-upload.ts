/**
 * One object written to S3 from bytes handed over in order: one PutObject
 * with Content-MD5 when the body fits in a part, else a multipart upload
 * whose parts go out (through the shared RequestPool) as they fill. Every
 * request's returned ETag is compared with the MD5 of what was sent, so a
 * server that stored other bytes (a proxy that altered them, aws-chunked
 * framing kept as data) is caught. Memory: the part being filled plus one
 * buffer per request in flight. Nothing is visible under the key before
 * commit; a failed multipart upload is aborted.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DecodeError } from '../errors.js';
import { s3Error } from './client.js';
import type { RequestPool } from './request-pool.js';
import { formatS3Url } from './url.js';

/** Parts are at least this big (S3's minimum for all but the last) … */
export const DEFAULT_PART_SIZE = 8 << 20;
/** … and at most this many. */
const MAX_PARTS = 10_000;

/** Headers an object is stored with (restore-objects sets them from sidecars). */
export interface ObjectHeaders {
  contentType?: string;
  contentEncoding?: string;
  cacheControl?: string;
  contentDisposition?: string;
  /** x-amz-meta-* values, ASCII only (the caller encodes others). */
  metadata?: Record<string, string>;
}

/** What uploads share: the client, the pool bounding requests, the part size, and who wants to know what was touched. */
export interface UploadSession {
  client: S3Client;
  pool: RequestPool;
  partSize: number;
  /** Called before any request that may create the key (for cleanup: a cut-off PUT may still leave an object). */
  onTouch?: (bucket: string, key: string) => void;
}

/** A stored, checked object. */
export interface UploadResult {
  size: number;
  /** The ETag the server gave, without quotes. */
  etag: string;
  /** MD5 of the whole body as sent. */
  md5: Buffer;
  parts: number;
}

/** An object being written: write() its bytes in order, then commit() (or abort()). */
export class ObjectUpload {
  private readonly md5 = createHash('md5');
  private readonly partSize: number;
  private readonly multipart: boolean;
  private written = 0;
  private part: Buffer | undefined;
  private fill = 0;
  private uploadId: Promise<string> | undefined;
  private readonly parts: Array<Promise<{ PartNumber: number; ETag: string; md5: Buffer }>> = [];

  constructor(
    private readonly session: UploadSession,
    readonly bucket: string,
    readonly key: string,
    readonly size: number,
    private readonly headers: ObjectHeaders = {},
  ) {
    this.partSize = Math.max(session.partSize, Math.ceil(size / MAX_PARTS));
    this.multipart = size > this.partSize;
  }

  /** The next bytes; resolves once they are copied (and a full part handed to the pool). */
  async write(bytes: Buffer): Promise<void> {
    if (this.written + bytes.length > this.size) throw new Error(`upload of ${this.key}: more than the announced ${this.size} bytes`);
    this.md5.update(bytes);
    let off = 0;
    while (off < bytes.length) {
      this.part ??= Buffer.allocUnsafe(Math.min(this.partSize, this.size - this.written));
      const n = bytes.copy(this.part, this.fill, off);
      off += n;
      this.fill += n;
      this.written += n;
      if (this.fill === this.part.length && this.multipart) await this.sendPart();
    }
  }

  /**
   * Every byte was written: sends what is left and resolves once it is
   * handed to the pool; `done` settles when the object exists and its ETag
   * has been checked (a failed multipart upload is aborted first).
   */
  async commit(): Promise<{ done: Promise<UploadResult> }> {
    if (this.written !== this.size) throw new Error(`upload of ${this.key}: ${this.written} of ${this.size} bytes written`);
    const md5 = this.md5.digest();
    if (!this.multipart) {
      const body = this.part ?? Buffer.alloc(0);
      this.part = undefined;
      return this.session.pool.start(() => this.putObject(body, md5));
    }
    const done = this.complete(md5);
    done.catch(() => {});
    return { done };
  }

  /** Drops the body: nothing was sent for a single PUT; a multipart upload is aborted once its parts settle. */
  async abort(): Promise<void> {
    this.part = undefined;
    if (!this.uploadId) return;
    await Promise.allSettled(this.parts);
    await this.abortMultipart();
  }

  private get url(): string {
    return formatS3Url(this.bucket, this.key);
  }

  private async putObject(body: Buffer, md5: Buffer): Promise<UploadResult> {
    this.session.onTouch?.(this.bucket, this.key);
    const h = this.headers;
    let etag: string | undefined;
    try {
      const out = await this.session.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: body,
          ContentLength: body.length,
          ContentMD5: md5.toString('base64'),
          ...(h.contentType !== undefined ? { ContentType: h.contentType } : {}),
          ...(h.contentEncoding !== undefined ? { ContentEncoding: h.contentEncoding } : {}),
          ...(h.cacheControl !== undefined ? { CacheControl: h.cacheControl } : {}),
          ...(h.contentDisposition !== undefined ? { ContentDisposition: h.contentDisposition } : {}),
          ...(h.metadata !== undefined ? { Metadata: h.metadata } : {}),
        }),
      );
      etag = out.ETag;
    } catch (e) {
      throw s3Error(e, 'PutObject', this.bucket, this.key);
    }
    checkEtag(etag, [md5.toString('hex')], 'PutObject', this.url);
    return { size: body.length, etag: unquote(etag), md5, parts: 1 };
  }

  private startMultipart(): Promise<string> {
    const h = this.headers;
    const p = (async () => {
      const { done } = await this.session.pool.start(() =>
        this.session.client.send(
          new CreateMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.key,
            ...(h.contentType !== undefined ? { ContentType: h.contentType } : {}),
            ...(h.contentEncoding !== undefined ? { ContentEncoding: h.contentEncoding } : {}),
            ...(h.cacheControl !== undefined ? { CacheControl: h.cacheControl } : {}),
            ...(h.contentDisposition !== undefined ? { ContentDisposition: h.contentDisposition } : {}),
            ...(h.metadata !== undefined ? { Metadata: h.metadata } : {}),
          }),
        ),
      );
      let id: string | undefined;
      try {
        id = (await done).UploadId;
      } catch (e) {
        throw s3Error(e, 'CreateMultipartUpload', this.bucket, this.key);
      }
      if (!id) throw new DecodeError('ERR_S3_REQUEST', 'CreateMultipartUpload failed: the server returned no UploadId', { path: this.url });
      return id;
    })();
    p.catch(() => {});
    return p;
  }

  private async sendPart(): Promise<void> {
    const body = this.part!;
    this.part = undefined;
    this.fill = 0;
    this.uploadId ??= this.startMultipart();
    const uploadId = await this.uploadId;
    const partNumber = this.parts.length + 1;
    const md5 = createHash('md5').update(body).digest();
    const { done } = await this.session.pool.start(async () => {
      let etag: string | undefined;
      try {
        const out = await this.session.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length, ContentMD5: md5.toString('base64') }),
        );
        etag = out.ETag;
      } catch (e) {
        throw s3Error(e, `UploadPart ${partNumber}`, this.bucket, this.key);
      }
      checkEtag(etag, [md5.toString('hex')], `UploadPart ${partNumber}`, this.url);
      return { PartNumber: partNumber, ETag: etag!, md5 };
    });
    this.parts.push(done);
  }

  private async complete(md5: Buffer): Promise<UploadResult> {
    try {
      const settled = await Promise.allSettled(this.parts);
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      const parts = settled.map((s) => (s as PromiseFulfilledResult<{ PartNumber: number; ETag: string; md5: Buffer }>).value);
      const uploadId = await this.uploadId!;
      this.session.onTouch?.(this.bucket, this.key);
      const { done } = await this.session.pool.start(() =>
        this.session.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) },
          }),
        ),
      );
      let etag: string | undefined;
      try {
        etag = (await done).ETag;
      } catch (e) {
        throw s3Error(e, 'CompleteMultipartUpload', this.bucket, this.key);
      }
      // S3 gives MD5(part MD5s)-N; some servers (s3rver) the body's MD5: either proves the bytes.
      const composite = `${createHash('md5').update(Buffer.concat(parts.map((p) => p.md5))).digest('hex')}-${parts.length}`;
      checkEtag(etag, [composite, md5.toString('hex')], 'CompleteMultipartUpload', this.url);
      return { size: this.size, etag: unquote(etag), md5, parts: parts.length };
    } catch (e) {
      await this.abortMultipart();
      throw e;
    }
  }

  private async abortMultipart(): Promise<void> {
    const uploadId = await this.uploadId?.catch(() => undefined);
    if (!uploadId) return;
    try {
      await this.session.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: uploadId }));
    } catch {
      // Best effort: the failure that led here is the one to report.
    }
  }
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/** The returned ETag must be one of `accepted` (lowercase hex, unquoted). */
function checkEtag(etag: string | undefined, accepted: string[], operation: string, url: string): void {
  const got = unquote(etag).toLowerCase();
  if (accepted.includes(got)) return;
  throw new DecodeError('ERR_S3_UPLOAD_MISMATCH', `${operation}: the server's ETag ${JSON.stringify(got)} is not that of the bytes sent (${accepted.join(' or ')})`, { path: url });
}
