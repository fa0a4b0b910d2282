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
  /**
   * Set by the version resolver on a record that replaces a version of its
   * key passed on earlier (unsorted input): the key is counted once by
   * class, whatever the order of its versions.
   */
  replaces?: boolean;
  /**
   * Set when the value travels in pieces (a reader with `valuePieces`, for a
   * value larger than one block): `value` is then null, and the value's
   * `valueLength` bytes follow this record in the stream as ValuePiece items.
   */
  valueLength?: number;
}

/**
 * A piece of a value too large to be held whole (SPEC §9): it follows its
 * record (`valueLength`, or `payloadLength` after the classifier) in the
 * stream, in order, at most one block (1 MiB) each; the last is marked.
 * Stages that drop a record drop its pieces; the spiller writes and hashes
 * them one at a time.
 */
export interface ValuePiece {
  kind: 'piece';
  bytes: Buffer;
  /** The value's last piece. */
  last: boolean;
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

/** What every classified record carries: tombstone flag, origin, raw key and commit_ts. */
export interface ClassifiedBase {
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

/** A !s3|bucket|meta| record: a bucket's metadata (JSON). */
export interface BucketMetaRecord extends ClassifiedBase {
  kind: 'bucket-meta';
  bucket: Buffer;
  /** Raw JSON value (null for a tombstone). */
  value: Buffer | null;
}

/** A !s3|obj|head| record: an object's manifest (JSON). */
export interface ManifestRecord extends ClassifiedBase {
  kind: 'manifest';
  bucket: Buffer;
  generation: bigint;
  object: Buffer;
  value: Buffer | null;
}

/** A !s3|blob| record: one body chunk with its payload. */
export interface BlobRecord extends ClassifiedBase {
  kind: 'blob';
  addr: ChunkAddress;
  /** Chunk payload (null for a tombstone, or when it follows in pieces). */
  payload: Buffer | null;
  /** Set when the payload follows this record as ValuePiece items (`payload` is then null). */
  payloadLength?: number;
}

/** A !s3|chunkref| record: a reference to an offloaded chunk. */
export interface ChunkRefRecord extends ClassifiedBase {
  kind: 'chunkref';
  addr: ChunkAddress;
  /** Raw chunkref value (SPEC §5.4), decoded at finalization. */
  value: Buffer | null;
}

/** A !s3|chunkblob| record: an offloaded chunk's payload, keyed by its SHA-256. */
export interface ChunkBlobRecord extends ClassifiedBase {
  kind: 'chunkblob';
  /** Lowercase hex SHA-256 from the key. */
  digest: string;
  payload: Buffer | null;
  /** Set when the payload follows this record as ValuePiece items (`payload` is then null). */
  payloadLength?: number;
}

/** A !s3|upload|meta| or !s3|upload|part| record: an in-flight multipart upload. */
export interface UploadRecord extends ClassifiedBase {
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

/**
 * A spill file: a scratch file the spiller writes chunk payloads to. A run
 * holds consecutive chunks of one (bucket, generation, object, upload) in
 * body order; the pool holds every chunk that continues no run, and the
 * offloaded chunkblob payloads. Immutable: what the spiller learns later
 * about a run (its size and hashes) travels as a SealedRunRecord.
 */
export interface SpillFile {
  readonly id: number;
  readonly path: string;
  readonly kind: 'run' | 'pool';
}

/** A byte range of a spill file: where one chunk's payload is. */
export interface Span {
  readonly file: SpillFile;
  readonly offset: number;
  readonly length: number;
}

/** Hashes of a sealed run, computed as it was written. */
export interface RunHashes {
  readonly sha256: Buffer;
  /**
   * Each maximal stretch of one (partNo, partVersion), in file order, with
   * its MD5 when MD5 was asked for. There is no whole-run MD5 (see
   * lib/core/run-digest.ts): a one-stretch run's is its stretch's.
   */
  readonly parts: ReadonlyArray<{ readonly partNo: bigint; readonly partVersion: bigint; readonly length: number; readonly md5?: Buffer }>;
}

/** A run the spiller has closed: every byte of it written and hashed. */
export interface SealedRun {
  readonly file: SpillFile;
  readonly size: number;
  readonly hashes: RunHashes;
}

/** Emitted by the spiller once a run is sealed (before its end of stream). */
export interface SealedRunRecord {
  kind: 'run';
  run: SealedRun;
}

/** A blob record after the spiller: its payload replaced by the span that holds it. */
export interface SpilledBlobRecord extends ClassifiedBase {
  kind: 'blob';
  addr: ChunkAddress;
  /** Where the payload was spilled (null for a tombstone). */
  span: Span | null;
}

/** A chunkblob record after the spiller: its payload replaced by the span that holds it. */
export interface SpilledChunkBlobRecord extends ClassifiedBase {
  kind: 'chunkblob';
  digest: string;
  span: Span | null;
}

/** What the blob spiller emits: payload-free records. */
export type SpilledRecord =
  | BucketMetaRecord
  | ManifestRecord
  | SpilledBlobRecord
  | ChunkRefRecord
  | SpilledChunkBlobRecord
  | UploadRecord
  | SealedRunRecord;

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
  span?: Span;
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
}

/** The objects of a bucket, of all generations (lib/stages/object-spool.ts). */
export interface BucketObjects {
  /** How many (generation, object) pairs. */
  readonly size: number;
  /** The generations that have objects. */
  generations(): bigint[];
  /**
   * Every object, sorted by key bytes then generation; each call reads them
   * afresh, one at a time (a bucket's objects need not fit in memory).
   */
  sorted(): Iterable<ObjectCollection>;
}

/** Offloaded payloads by digest, shared by all buckets. */
export type ChunkBlobStore = ReadonlyMap<string, Span>;

/** Sealed runs by spill file id, shared by all buckets. */
export type SealedRuns = ReadonlyMap<number, SealedRun>;

/** What the bucket collector emits: one per bucket, in output order. */
export interface BucketCollection {
  name: Buffer;
  meta?: { value: Buffer; where: Where };
  objects: BucketObjects;
  uploads: UploadRecord[];
  chunkBlobs: ChunkBlobStore;
  runs: SealedRuns;
}

/** A structured warning (SPEC §7). */
export interface Warning {
  event: string;
  [field: string]: string | number | bigint | boolean;
}

/** Receives each structured warning (SPEC §7). */
export type WarningHandler = (warning: Warning) => void;
