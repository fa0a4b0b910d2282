/**
 * Records that flow between the stages of the decode pipeline:
 *
 *   reader → SnapshotRecord → resolver → SnapshotRecord → classifier
 *     → ClassifiedRecord → spiller → SpilledRecord → collector
 *     → BucketCollection → sink
 *
 * u64 quantities from the snapshot (generations, part and chunk numbers,
 * commit timestamps) are bigints so no value of the uint64 range is lost.
 */

/** Where a record came from, for error messages. */
export interface Where {
  /** 1-based line number in JSONL input. */
  line?: number;
  /** Byte offset of the entry in native input. */
  offset?: number;
}

/** One key/value record of a snapshot, as read from JSONL or native input. */
export interface SnapshotRecord {
  key: Buffer;
  /** Null only for a tombstone given without a value. */
  value: Buffer | null;
  /** MVCC commit timestamp (0 when the input gives none). */
  commitTs: bigint;
  tombstone: boolean;
  where: Where;
  /** Which input it came from, when several are merged (SPEC §10): its index in input order. */
  input?: number;
}

/** Facts about the input stream itself, announced by readers ('header' event). */
export interface SnapshotHeader {
  format: 'jsonl' | 'fsm';
  /** lastCommitTS of a native snapshot. */
  lastCommitTs?: bigint;
}

/** The address of one body chunk: the components of a !s3|blob| or !s3|chunkref| key. */
export interface ChunkAddress {
  bucket: Buffer;
  generation: bigint;
  object: Buffer;
  uploadId: Buffer;
  partNo: bigint;
  chunkNo: bigint;
  /** 0 when the key has no trailer. */
  partVersion: bigint;
}

interface Classified {
  /** The record is the newest version so far and deletes what it replaces. */
  tombstone: boolean;
  where: Where;
  /** The raw key, for messages and records.jsonl. */
  key: Buffer;
  /**
   * The record's commit_ts (absent: 0). The collector keeps, per identity,
   * the version with the highest one (equal: the later record), so its
   * result does not depend on the version resolver remembering every key.
   */
  commitTs?: bigint;
}

export interface BucketMetaRecord extends Classified {
  kind: 'bucket-meta';
  bucket: Buffer;
  /** Raw JSON value (null for a tombstone). */
  value: Buffer | null;
}

export interface ManifestRecord extends Classified {
  kind: 'manifest';
  bucket: Buffer;
  generation: bigint;
  object: Buffer;
  value: Buffer | null;
}

export interface BlobRecord extends Classified {
  kind: 'blob';
  addr: ChunkAddress;
  /** Chunk payload (null for a tombstone). */
  payload: Buffer | null;
}

export interface ChunkRefRecord extends Classified {
  kind: 'chunkref';
  addr: ChunkAddress;
  /** Raw chunkref value (SPEC §5.4), decoded at finalization. */
  value: Buffer | null;
}

export interface ChunkBlobRecord extends Classified {
  kind: 'chunkblob';
  /** Lowercase hex SHA-256 from the key. */
  digest: string;
  payload: Buffer | null;
}

export interface UploadRecord extends Classified {
  kind: 'upload';
  /** The key family prefix, e.g. "!s3|upload|meta|". */
  prefix: string;
  bucket: Buffer;
  generation: bigint;
  object: Buffer;
  uploadId: Buffer;
  /** Only for !s3|upload|part|. */
  partNo?: bigint;
  value: Buffer | null;
}

/** What the key classifier emits: one record per S3 key it understands. */
export type ClassifiedRecord =
  | BucketMetaRecord
  | ManifestRecord
  | BlobRecord
  | ChunkRefRecord
  | ChunkBlobRecord
  | UploadRecord;

/** Spilled payload: a byte range of a scratch file. */
export interface SpillLocation {
  segment: SpillSegment;
  offset: number;
  length: number;
}

/**
 * A scratch file holding chunk payloads. A 'run' holds consecutive chunks of
 * one (bucket, generation, object, upload) in arrival order; when a manifest
 * selects exactly that run it becomes the body by rename. The 'pool' collects
 * every chunk that continues no run, and offloaded chunkblob payloads.
 */
export interface SpillSegment {
  id: number;
  path: string;
  kind: 'run' | 'pool';
  /** Bytes written so far. */
  size: number;
  /** For runs: the chunks in file order. */
  run?: RunInfo;
  /** For runs, once sealed: hashes of the whole file. */
  hashes?: SegmentHashes;
  /** The file was renamed away (published); it may no longer be read. */
  consumed?: boolean;
}

/** The identity of a run and the chunks it holds, in file order. */
export interface RunInfo {
  bucket: Buffer;
  generation: bigint;
  object: Buffer;
  uploadId: Buffer;
  chunks: Array<{ partNo: bigint; chunkNo: bigint; partVersion: bigint; offset: number; length: number }>;
}

/** Hashes of a sealed run, computed as it was written. */
export interface SegmentHashes {
  sha256: Buffer;
  /**
   * Each maximal stretch of one (partNo, partVersion), in file order, with
   * its MD5 when MD5 was asked for. There is no whole-run MD5 (see
   * lib/core/run-digest.ts): a one-stretch run's is its stretch's.
   */
  parts: Array<{ partNo: bigint; partVersion: bigint; length: number; md5?: Buffer }>;
}

export interface SpilledBlobRecord extends Classified {
  kind: 'blob';
  addr: ChunkAddress;
  location: SpillLocation | null;
}

export interface SpilledChunkBlobRecord extends Classified {
  kind: 'chunkblob';
  digest: string;
  location: SpillLocation | null;
}

/** What the blob spiller emits: payload-free records. */
export type SpilledRecord =
  | BucketMetaRecord
  | ManifestRecord
  | SpilledBlobRecord
  | ChunkRefRecord
  | SpilledChunkBlobRecord
  | UploadRecord;

/**
 * A chunk's identity within its object: the components of its !s3|blob| or
 * !s3|chunkref| key after the object (bucket, generation and object are the
 * owning ObjectCollection's).
 */
export interface ChunkIdentity {
  /** The upload id's bytes as a 'latin1' string (one char per byte; compares bytewise). */
  uploadId: string;
  partNo: bigint;
  chunkNo: bigint;
  /** 0 when the key has no trailer. */
  partVersion: bigint;
}

/** A chunk of one object: where its bytes are (blob) or how to find them (chunkref). */
export interface CollectedChunk extends ChunkIdentity {
  /** commit_ts of the version held. */
  commitTs: bigint;
  where: Where;
  /** Blob chunk: its bytes in scratch. */
  location?: SpillLocation;
  /** Chunkref: the raw ref value. */
  ref?: Buffer;
}

/** The live chunks of an object, one per identity. */
export interface Chunks {
  readonly size: number;
  /** The live chunks, in order of arrival of their identity. */
  values(): IterableIterator<CollectedChunk>;
}

/** Everything known about one (generation, object) of a bucket. */
export interface ObjectCollection {
  readonly generation: bigint;
  /** The object key's bytes as a 'latin1' string (one char per byte; compares bytewise). */
  readonly key: string;
  /** The object key's bytes. */
  readonly object: Buffer;
  /** The live manifest, if any. */
  readonly manifest: { value: Buffer; where: Where } | undefined;
  /** Blob chunks by chunk identity; absent or empty when none. */
  readonly blobs: Chunks | undefined;
  /** Chunkrefs by chunk identity; absent or empty when none. */
  readonly refs: Chunks | undefined;
  /**
   * The sink is done with the object: what it holds may be let go (the
   * manifest reads as absent afterwards). Optional: a no-op when absent.
   */
  release?(): void;
}

/** The objects of a bucket, of all generations (lib/core/object-store.ts). */
export interface BucketObjects {
  /** How many (generation, object) pairs. */
  readonly size: number;
  /** The generations that have objects. */
  generations(): bigint[];
  /** Every object, sorted by key bytes then generation (views made on demand: let go of them when done). */
  sorted(): ObjectCollection[];
}

/** Offloaded payloads by digest, shared by all buckets. */
export type ChunkBlobStore = Map<string, SpillLocation>;

/** What the manifest collector emits: one per bucket, in output order. */
export interface BucketCollection {
  name: Buffer;
  meta?: { value: Buffer; where: Where };
  objects: BucketObjects;
  uploads: UploadRecord[];
  chunkBlobs: ChunkBlobStore;
}

/** A structured warning (SPEC §7). */
export interface Warning {
  event: string;
  [field: string]: string | number | bigint | boolean;
}

export type WarningHandler = (warning: Warning) => void;
