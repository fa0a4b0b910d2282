/**
 * ekv-s3-decode as a library: the one-call decodeSnapshot(), every pipeline
 * stage as a factory, the records that flow between them, and the error
 * type. Pure decoding helpers (key parsing, names, Go-compatible JSON,
 * native snapshot framing, planning) are on the `ekv-s3-decode/core`
 * subpath (lib/core/index.ts).
 *
 *   bytes → createSnapshotReader → createVersionResolver → createKeyClassifier
 *     → [createRecordFilter] → createBlobSpiller → createBucketCollector
 *     → createDirectorySink | createTarSink | createDumpSink(target)
 *
 * (A reader created with `valuePieces` sends a native value over 1 MiB as
 * its record then ValuePiece items; the stages up to the spiller take them.)
 *
 * A whole cluster (several Raft groups' snapshots, SPEC §10) replaces the
 * first stage:
 *
 *   ClusterInput[] → openClusterMerge → createOwnershipFilter → createConflictDetector
 *     → createVersionResolver → …
 *
 * with inputs from files (fileInput), a node's data directory
 * (dataDirInputs) or an offload store (offloadInputs over a SnapshotStore
 * such as LocalStore); decodeSnapshot() takes the inputs as an array.
 */
export { decodeSnapshot, type DecodeInput, type DecodeOptions, type Progress, type Summary } from './decode.js';
export { DecodeError, ERROR_CODES, isDecodeError, type ErrorCode, type ErrorContext, type ErrorLevel } from './errors.js';
export { VERSION } from './version.js';

// Stages, in pipeline order.
export { createSnapshotReader, createJsonlReader, createFsmReader, type SnapshotReader, type InputFormat, type SnapshotReaderOptions } from './stages/read-snapshot.js';
export { createVersionResolver, type VersionResolver, type ResolverOptions, type ResolverStats } from './stages/resolve-versions.js';
export { createKeyClassifier, type KeyClassifier, type ClassifierOptions, type ClassifierStats } from './stages/classify.js';
export { createRecordFilter, type RecordFilter, type FilterOptions, type FilterStats } from './stages/filter.js';
export { createBlobSpiller, type BlobSpiller, type SpillerOptions, type SpillerStats } from './stages/spill.js';
export { PageCacheCost, COSTLY_SYSTEM_S_PER_GIB, type PageCacheCostOptions } from './io/page-cache-cost.js';
export { createBucketCollector, type BucketCollector, type BucketCollectorOptions } from './stages/collect.js';
export { createDumpSink, type DumpSink, type DumpSinkOptions, type SinkStats } from './sinks/dump-sink.js';
export { createDirectorySink, type DirectorySinkOptions, type DirectoryTargetOptions } from './sinks/directory.js';
export { createTarSink, type TarSinkOptions } from './sinks/tar.js';
export { createWriteCoalescer, WriteCoalescer, COALESCE_BYTES } from './io/write-coalescer.js';
export type { Target, BodyWriter } from './sinks/target.js';
export type { DumpFilters, DumpManifestInfo, GroupEntry } from './core/dump-files.js';
export type { S3Options } from './s3/client.js';

// Whole-cluster dumps (SPEC §10): inputs, the merge stage and its companions.
export { fileInput, withGroupIds, groupIdFromPath, CLUSTER_READ_SIZE, clusterReadSize, type ClusterInput, type InputEnd } from './cluster/input.js';
export { dataDirInputs, findSnapshots, chooseSnapshots, type FoundSnapshot } from './cluster/data-dir.js';
export { openClusterMerge, type ClusterMerge, type MergeOptions, type InputReport } from './cluster/merge.js';
export { createOwnershipFilter, type OwnershipFilter, type OwnershipOptions, type OwnershipStats } from './cluster/ownership.js';
export { createConflictDetector, type ConflictDetector, type ConflictOptions } from './cluster/conflicts.js';
export { openClusterSource, groupEntries, type ClusterSource, type ClusterSourceOptions } from './cluster/source.js';

// Snapshot stores (SPEC §11): the interface, a local directory, the offload layout.
export { getSmall, type SnapshotStore, type StoreObject } from './store/store.js';
export { LocalStore } from './store/local-store.js';
export { offloadInputs, newestManifests, type PayloadCheck, type ManifestRef, type OffloadOptions } from './store/offload.js';

// Conversion (ekv-snapshot-jsonl).
export { createJsonlWriter, createFsmToJsonl, type JsonlWriter, type FsmToJsonl, type JsonlWriterOptions, type JsonlWriterStats, type FsmToJsonlStats } from './convert/to-jsonl.js';
export { createJsonlToFsm, createFsmWriter, type FsmWriter, type FsmWriterOptions, type FsmWriterStats } from './convert/to-fsm.js';

// Restore (ekv-s3-encode) and checking (ekv-s3-verify).
export { encodeDump, type EncodeOptions as EncodeDumpOptions, type EncodeResult as EncodeDumpResult } from './encode/encode.js';
export { verifyDump, type VerifyOptions, type VerifyResult } from './verify/verify.js';
export type { Problem } from './verify/facts.js';
export type { SelfTestResult } from './encode/self-test.js';

// The records between the stages.
export type * from './types.js';
