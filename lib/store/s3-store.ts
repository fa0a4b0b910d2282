/**
 * An S3 bucket (under an optional key prefix) as a SnapshotStore, for
 * `--from-offload s3://BUCKET[/PREFIX]` (SPEC §11): listings page through
 * ListObjectsV2, objects stream through ranged GETs pinned to their ETag
 * and retried from where they stopped (range-reader.ts). Each operation
 * has its own client, destroyed when its listing or stream ends, so a
 * store needs no closing whichever of its streams the run gets to read.
 */
import type { Readable } from 'node:stream';
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { createS3Client, s3Error, type S3Options } from '../s3/client.js';
import { streamS3Object } from '../s3/range-reader.js';
import { formatS3Url, prefixDir, type S3Location } from '../s3/url.js';
import type { SnapshotStore, StoreObject } from './store.js';

/** A SnapshotStore over `s3://bucket/prefix` (`new S3Store(parseS3Url(url), s3Options)`). */
export class S3Store implements SnapshotStore {
  readonly bucket: string;
  /** '' or ending in '/': store keys are relative to it. */
  readonly prefix: string;

  constructor(
    location: S3Location,
    private readonly options: S3Options = {},
  ) {
    this.bucket = location.bucket;
    this.prefix = prefixDir(location.key);
  }

  describe(key: string): string {
    return formatS3Url(this.bucket, this.prefix + key);
  }

  async *list(prefix: string): AsyncIterable<StoreObject> {
    const client = createS3Client(this.options);
    try {
      let token: string | undefined;
      do {
        let out: ListObjectsV2CommandOutput;
        try {
          out = await client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) }));
        } catch (e) {
          throw s3Error(e, 'ListObjectsV2', this.bucket, this.prefix + prefix);
        }
        // S3 lists keys in the byte order of their UTF-8, the order the interface promises.
        for (const o of out.Contents ?? []) if (o.Key !== undefined) yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0 };
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    } finally {
      client.destroy();
    }
  }

  get(key: string): Promise<Readable> {
    return this.open(key, {});
  }

  getRange(key: string, start: number, end: number): Promise<Readable> {
    return this.open(key, { start, end });
  }

  private open(key: string, range: { start?: number; end?: number }): Promise<Readable> {
    return streamS3Object(this.options, this.bucket, this.prefix + key, range);
  }
}
