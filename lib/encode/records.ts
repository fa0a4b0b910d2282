/**
 * The records elastickv's S3 reverse encoder writes for a dump (SPEC §12,
 * its internal/backup/encode_s3*.go): bucket meta and generation, one
 * single-part manifest per object and its body as 1 MiB blob chunks, all at
 * generation 1 and upload id "elastickv-restore". Values are Go
 * `json.Marshal` bytes (compact, HTML-escaped, struct field order).
 */
import { GoMap, marshal, type GoJson } from '../core/gojson-write.js';
import { blobKey, bucketGenKey, bucketMetaKey, encodeSegment, manifestKey } from '../core/keys.js';

/** The generation every restored bucket and object gets. */
export const RESTORE_GENERATION = 1n;
/** The upload id of every restored object. */
export const RESTORE_UPLOAD_ID = 'elastickv-restore';
/** The part number of a restored object's single part. */
export const RESTORE_PART_NO = 1n;
/** Bodies are cut into chunks of this size (elastickv's s3ChunkSize). */
export const CHUNK_BYTES = 1 << 20;

/** What the dump says about a bucket (_bucket.json). */
export type DumpBucket = {
  name: string;
  /** From creation_time_iso: milliseconds since the epoch, 0 when absent. */
  createdMs: number;
  owner: string;
  region: string;
  acl: string;
};

/** What the dump says about an object (its sidecar). */
export type DumpSidecar = {
  etag: string;
  sizeBytes: number;
  /** From last_modified: milliseconds since the epoch, 0 when absent or unparsable. */
  lastModifiedMs: number;
  contentType: string;
  contentEncoding: string;
  cacheControl: string;
  contentDisposition: string;
  /** null when absent or empty (Go's nil map). */
  userMetadata: Array<[string, string]> | null;
};

const hlcOfMs = (ms: number): bigint => BigInt(ms) << 16n;

/** `!s3|bucket|meta|` value: {"bucket_name","generation","created_at_hlc","owner","region","acl"}. */
export function bucketMetaValue(b: DumpBucket): Buffer {
  return Buffer.from(
    marshal({
      bucket_name: b.name,
      generation: RESTORE_GENERATION,
      created_at_hlc: hlcOfMs(b.createdMs),
      owner: b.owner,
      region: b.region,
      acl: b.acl,
    }),
  );
}

/** `!s3|bucket|gen|` value: the generation as u64 big-endian. */
export function bucketGenValue(): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(RESTORE_GENERATION);
  return out;
}

/** The sizes of the chunks a body of n bytes is cut into. */
export function chunkSizes(n: number): number[] {
  const out: number[] = [];
  for (let at = 0; at < n; at += CHUNK_BYTES) out.push(Math.min(CHUNK_BYTES, n - at));
  return out;
}

/** `!s3|obj|head|` value for an object whose body is sizeBytes long (as its sidecar says). */
export function manifestValue(s: DumpSidecar): Buffer {
  const sizes = chunkSizes(s.sizeBytes);
  const parts: GoJson =
    sizes.length === 0
      ? null
      : [
          {
            part_no: RESTORE_PART_NO,
            etag: s.etag,
            size_bytes: s.sizeBytes,
            chunk_count: sizes.length,
            chunk_sizes: sizes,
            part_version: 0,
            chunk_ref_version: 0,
            offloaded: false,
          },
        ];
  return Buffer.from(
    marshal({
      upload_id: RESTORE_UPLOAD_ID,
      etag: s.etag,
      size_bytes: s.sizeBytes,
      last_modified_hlc: hlcOfMs(s.lastModifiedMs),
      content_type: s.contentType,
      content_encoding: s.contentEncoding,
      cache_control: s.cacheControl,
      content_disposition: s.contentDisposition,
      user_metadata: s.userMetadata === null ? null : new GoMap(s.userMetadata),
      parts,
    }),
  );
}

export const restoreBucketMetaKey = (bucket: Buffer): Buffer => bucketMetaKey(bucket);
export const restoreBucketGenKey = (bucket: Buffer): Buffer => bucketGenKey(bucket);
export const restoreManifestKey = (bucket: Buffer, object: Buffer): Buffer => manifestKey(bucket, RESTORE_GENERATION, object);

export function restoreBlobKey(bucket: Buffer, object: Buffer, chunkNo: number): Buffer {
  return blobKey({
    bucket,
    generation: RESTORE_GENERATION,
    object,
    uploadId: Buffer.from(RESTORE_UPLOAD_ID),
    partNo: RESTORE_PART_NO,
    chunkNo: BigInt(chunkNo),
    partVersion: 0n,
  });
}

/**
 * The order objects are emitted in: seg(bucket) ‖ seg(object). Blob and
 * manifest keys share that prefix order after their constant family
 * prefix (seg() is prefix-free), so one sort serves both families.
 */
export function objectSortKey(bucket: Buffer, object: Buffer): Buffer {
  return Buffer.concat([encodeSegment(bucket), encodeSegment(object)]);
}
