/**
 * ekv-s3-decode as a library: every pipeline stage as a factory, the
 * one-call decodeSnapshot(), the pure decoding core and the record types.
 *
 *   bytes → createSnapshotReader → createVersionResolver → createKeyClassifier
 *     → createBlobSpiller → createManifestCollector → createDirectorySink | createTarSink
 */
export { decodeSnapshot, type DecodeOptions, type Summary } from './decode.js';
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

// Conversion (ekv-snapshot-jsonl)
export { createJsonlWriter, createFsmToJsonl, JsonlWriter, FsmToJsonl, jsonlLine, type JsonlWriterOptions, type JsonlWriterStats, type FsmToJsonlStats, type JsonlLineInput } from './convert/to-jsonl.js';
export { createJsonlToFsm, createFsmWriter, FsmWriter, type FsmWriterOptions, type FsmWriterStats } from './convert/to-fsm.js';

// Restore (ekv-s3-encode) and checking (ekv-s3-verify)
export { encodeDump, type EncodeOptions as EncodeDumpOptions, type EncodeResult as EncodeDumpResult } from './encode/encode.js';
export { verifyDump, type VerifyOptions, type VerifyResult } from './verify/verify.js';
export type { Problem } from './verify/facts.js';

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
