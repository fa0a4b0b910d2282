/**
 * elastickv's S3 values as Go declares them (SPEC §5.1, §5.2): the bucket
 * meta and the object manifest, their schemas for the Go-JSON reader, and
 * the two parsers.
 */
import { decodeStruct } from './gojson-read.js';
import { Schema } from './gojson-schema.js';

/**
 * `!s3|bucket|meta|` value: Go `s3BucketMeta` (adapter/s3.go) /
 * `s3LiveBucketMeta` (internal/backup/s3.go).
 */
export type BucketMeta = {
  bucketName: string;
  /** uint64 */
  generation: bigint;
  /** uint64 */
  createdAtHlc: bigint;
  owner: string;
  region: string;
  acl: string;
};

/** One `parts[]` entry: Go `s3ObjectPart` / `s3LivePart`. */
export type ManifestPart = {
  /** uint64 */
  partNo: bigint;
  etag: string;
  /** int64 */
  sizeBytes: bigint;
  /** uint64 */
  chunkCount: bigint;
  /** []uint64 */
  chunkSizes: bigint[];
  /** uint64 */
  partVersion: bigint;
  /** uint64 (the part's start timestamp; versions its chunkrefs) */
  chunkRefVersion: bigint;
  offloaded: boolean;
};

/** `!s3|obj|head|` value: Go `s3ObjectManifest` / `s3LiveManifest`. */
export type ObjectManifest = {
  uploadId: string;
  etag: string;
  /** int64 */
  sizeBytes: bigint;
  /** uint64 */
  lastModifiedHlc: bigint;
  contentType: string;
  contentEncoding: string;
  cacheControl: string;
  contentDisposition: string;
  /** map[string]string */
  userMetadata: Map<string, string>;
  parts: ManifestPart[];
};

export const BUCKET_META_SCHEMA = new Schema([
  { name: 'bucket_name', prop: 'bucketName', type: 'string' },
  { name: 'generation', type: 'uint64' },
  { name: 'created_at_hlc', prop: 'createdAtHlc', type: 'uint64' },
  { name: 'owner', type: 'string' },
  { name: 'region', type: 'string' },
  { name: 'acl', type: 'string' },
]);

export const MANIFEST_PART_SCHEMA = new Schema([
  { name: 'part_no', prop: 'partNo', type: 'uint64' },
  { name: 'etag', type: 'string' },
  { name: 'size_bytes', prop: 'sizeBytes', type: 'int64' },
  { name: 'chunk_count', prop: 'chunkCount', type: 'uint64' },
  { name: 'chunk_sizes', prop: 'chunkSizes', type: 'uint64-array' },
  { name: 'part_version', prop: 'partVersion', type: 'uint64' },
  { name: 'chunk_ref_version', prop: 'chunkRefVersion', type: 'uint64' },
  { name: 'offloaded', type: 'bool' },
]);

export const MANIFEST_SCHEMA = new Schema([
  { name: 'upload_id', prop: 'uploadId', type: 'string' },
  { name: 'etag', type: 'string' },
  { name: 'size_bytes', prop: 'sizeBytes', type: 'int64' },
  { name: 'last_modified_hlc', prop: 'lastModifiedHlc', type: 'uint64' },
  { name: 'content_type', prop: 'contentType', type: 'string' },
  { name: 'content_encoding', prop: 'contentEncoding', type: 'string' },
  { name: 'cache_control', prop: 'cacheControl', type: 'string' },
  { name: 'content_disposition', prop: 'contentDisposition', type: 'string' },
  { name: 'user_metadata', prop: 'userMetadata', type: 'map-string' },
  { name: 'parts', type: { array: MANIFEST_PART_SCHEMA } },
]);

/** Decode a bucket meta value. @throws GoJsonError */
export function parseBucketMeta(bytes: Uint8Array): BucketMeta {
  return decodeStruct<BucketMeta>(bytes, BUCKET_META_SCHEMA);
}

/** Decode an object manifest value. @throws GoJsonError */
export function parseManifest(bytes: Uint8Array): ObjectManifest {
  return decodeStruct<ObjectManifest>(bytes, MANIFEST_SCHEMA);
}
