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
 */
export { decodeSnapshot, type DecodeOptions, type Progress, type Summary } from './decode.js';
export { DecodeError, ERROR_CODES, isDecodeError, type ErrorCode, type ErrorContext, type ErrorLevel } from './errors.js';
export { VERSION } from './version.js';

// Stages, in pipeline order.
export { createSnapshotReader, createJsonlReader, createFsmReader, type SnapshotReader, type InputFormat, type SnapshotReaderOptions } from './stages/read-snapshot.js';
export { createVersionResolver, type VersionResolver, type ResolverOptions, type ResolverStats } from './stages/resolve-versions.js';
export { createKeyClassifier, type KeyClassifier, type ClassifierOptions, type ClassifierStats } from './stages/classify.js';
export { createRecordFilter, type RecordFilter, type FilterOptions, type FilterStats } from './stages/filter.js';
export { createBlobSpiller, type BlobSpiller, type SpillerOptions, type SpillerStats } from './stages/spill.js';
export { createBucketCollector, type BucketCollector } from './stages/collect.js';
export { createDumpSink, type DumpSink, type DumpSinkOptions, type SinkStats } from './sinks/dump-sink.js';
export { createDirectorySink, type DirectorySinkOptions, type DirectoryTargetOptions } from './sinks/directory.js';
export { createTarSink, type TarSinkOptions } from './sinks/tar.js';
export type { Target, BodyWriter } from './sinks/target.js';
export type { DumpManifestInfo } from './core/dump-files.js';
export type { S3Options } from './s3/client.js';

// Conversion (ekv-snapshot-jsonl).
export { createJsonlWriter, createFsmToJsonl, type JsonlWriter, type FsmToJsonl, type JsonlWriterOptions, type JsonlWriterStats, type FsmToJsonlStats } from './convert/to-jsonl.js';
export { createJsonlToFsm, createFsmWriter, type FsmWriter, type FsmWriterOptions, type FsmWriterStats } from './convert/to-fsm.js';

// The records between the stages.
export type * from './types.js';
