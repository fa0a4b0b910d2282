/**
 * ekv-s3-decode as a library: every pipeline stage as a factory, the
 * one-call decodeSnapshot(), the pure decoding core and the record types.
 *
 *   bytes → createSnapshotReader → createVersionResolver → createKeyClassifier
 *     → createBlobSpiller → createManifestCollector → createDirectorySink | createTarSink
 *
 * A whole cluster (several Raft groups' snapshots) replaces the first stage:
 *
 *   ClusterInput[] → openClusterMerge → createOwnershipFilter → createConflictDetector
 *     → createVersionResolver → …
 *
 * with inputs from files (fileInput), a node's data directory (dataDirInputs)
 * or an offload store (offloadInputs over a SnapshotStore such as LocalStore).
 */
export { decodeSnapshot, type DecodeInput, type DecodeOptions, type Summary } from './decode.js';
export { DecodeError, ERROR_CODES, isDecodeError, type ErrorCode, type ErrorContext, type ErrorLevel } from './errors.js';
export { VERSION } from './version.js';

// Stages
export { createSnapshotReader, createJsonlReader, createFsmReader, SnapshotReader, type InputFormat, type SnapshotReaderOptions } from './stages/read-snapshot.js';
export { createVersionResolver, VersionResolver, type ResolverOptions, type ResolverStats } from './stages/resolve-versions.js';
export { createKeyClassifier, KeyClassifier, classifyRecord, type ClassifierOptions, type ClassifierStats } from './stages/classify.js';
export { createRecordFilter, RecordFilter, recordPredicate, type FilterOptions, type FilterStats } from './stages/filter.js';
export { createBlobSpiller, BlobSpiller, type SpillerOptions, type SpillerStats } from './stages/spill.js';
export { createManifestCollector, ManifestCollector } from './stages/collect.js';
export { createDirectorySink, DirectoryTarget, type DirectorySinkOptions } from './sinks/directory.js';
export { createTarSink, TarTarget, type TarSinkOptions } from './sinks/tar.js';
export { DumpSink, type DumpSinkOptions, type SinkStats } from './sinks/dump-sink.js';
export type { Target } from './sinks/target.js';

// Whole-cluster dumps (SPEC §10): inputs, the merge stage and its companions
export { fileInput, groupIdFromPath, withGroupIds, type ClusterInput, type InputEnd } from './cluster/input.js';
export { ClusterMerge, openClusterMerge, type MergeOptions, type InputReport } from './cluster/merge.js';
export { createOwnershipFilter, OwnershipFilter, type OwnershipOptions, type OwnershipStats } from './cluster/ownership.js';
export { createConflictDetector, ConflictDetector, type ConflictOptions } from './cluster/conflicts.js';
export { openClusterSource, groupEntries, type ClusterSource, type ClusterSourceOptions } from './cluster/source.js';
export { decodeRoute, isCatalogRouteKey, RouteCatalog, RouteCatalogBuilder, CATALOG_ROUTE_PREFIX, ROUTE_STATES, type Route, type RouteState } from './cluster/catalog.js';
export { routeOf, type RouteInfo } from './cluster/route-key.js';
export { dataDirInputs, findSnapshots, chooseSnapshots, type FoundSnapshot } from './cluster/data-dir.js';
export type { GroupEntry } from './core/manifest.js';

// Snapshot stores (SPEC §11): the interface, a local directory, the offload layout
export { getSmall, type SnapshotStore, type StoreObject } from './store/store.js';
export { LocalStore } from './store/local-store.js';
export { offloadInputs, newestManifests, PayloadCheck, type ManifestRef, type OffloadOptions } from './store/offload.js';
export { parseOffloadManifest, canonicalManifest, goTimeCanonical, type OffloadManifest, type OffloadPayload, type OffloadConfState } from './store/offload-manifest.js';

// Conversion (ekv-snapshot-jsonl)
export { createJsonlWriter, createFsmToJsonl, JsonlWriter, FsmToJsonl, jsonlLine, type JsonlWriterOptions, type JsonlWriterStats, type FsmToJsonlStats, type JsonlLineInput } from './convert/to-jsonl.js';
export { createJsonlToFsm, createFsmWriter, FsmWriter, type FsmWriterOptions, type FsmWriterStats } from './convert/to-fsm.js';

// Pure core
export { FsmDecoder, looksLikeFsm, type FsmDecoderOptions } from './core/fsm-decoder.js';
export { FsmEncoder, encodeFsmEntry, fsmPreamble, compareRecordsByEncodedKey } from './core/fsm-encoder.js';
export { JsonlDecoder, parseJsonlLine } from './core/jsonl-decoder.js';
export { classifyKey, type ParsedKey } from './core/keys.js';
export { enc, bucketDirName, assignObjectPaths, orphanChunkPath } from './core/names.js';
export { planBucket, planObject, type BucketPlan, type ObjectPlan, type ObjectFailure, type PlanOptions } from './core/plan.js';
export { parseBucketMeta, parseManifest, marshalIndent, encodeLine, type BucketMeta, type ObjectManifest, type ManifestPart } from './core/gojson.js';
export { hlcToTime } from './core/hlc.js';
export { decodeChunkRef, type ChunkRef } from './core/chunkref.js';

export type * from './types.js';
