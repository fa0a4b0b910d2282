/**
 * `ekv-s3-decode/core`: the pure decoding core, no streams and no file
 * system — for tools that want one rule of the SPEC without the pipeline.
 */
export {
  classifyKey,
  encodeSegment,
  encodeU64,
  BUCKET_META_PREFIX,
  BUCKET_GEN_PREFIX,
  MANIFEST_PREFIX,
  BLOB_PREFIX,
  CHUNKREF_PREFIX,
  CHUNKBLOB_PREFIX,
  UPLOAD_META_PREFIX,
  UPLOAD_PART_PREFIX,
  GC_UPLOAD_PREFIX,
  ROUTE_PREFIX,
  type ParsedKey,
  type KeyFamily,
  type UploadPrefix,
  type IgnoredPrefix,
  type Bytes,
} from './keys.js';
export { enc, bucketDirName, assignObjectPaths, orphanChunkPath, sidecarPath, type ObjectPathResult, type ObjectPath, type AssignOptions, type KeymapEntry, type KeymapKind } from './names.js';
export { planBucket, planObjects, isFailure, type BucketPlan, type ObjectPlan, type ObjectFailure, type PlanOptions, type PlannedPart } from './plan.js';
export { renderBucketJson, renderSidecar, renderKeymap, renderSkipped, renderUploads, renderDumpManifest, type KeymapLine, type SkippedObject, type DumpManifestInfo, type DumpFilters, type GroupEntry } from './dump-files.js';
export { parseBucketMeta, parseManifest, type BucketMeta, type ObjectManifest, type ManifestPart } from './s3-schemas.js';
export { marshal, marshalIndent, encodeLine, GoMap, type GoJson, type GoStruct, type EncodeOptions } from './gojson-write.js';
export { GoJsonError } from './gojson-error.js';
export { checkEtags, compositeEtag, parseEtag, type EtagShape } from './etag.js';
export { hlcToTime } from './hlc.js';
export { decodeChunkRef, type ChunkRef } from './chunkref.js';
export { crc32c } from './crc32c.js';
export { FsmDecoder, type FsmDecoderOptions, type RecordSink } from './fsm-decoder.js';
export type { FsmPreambleInfo } from './fsm-preamble.js';
export { looksLikeFsm } from './fsm-format.js';
export { encodedKey } from './encoded-key.js';
export { FsmEncoder, encodeFsmEntry, fsmPreamble, fsmFooter, compareRecordsByEncodedKey, type FsmEncoderOptions, type FsmEntryInput, type FsmPreambleOptions } from './fsm-encoder.js';
export { JsonlDecoder, parseJsonlLine, type JsonlBigValues } from './jsonl-decoder.js';
// Whole-cluster pure helpers (SPEC §10, §11): the route catalog codec, route keys, offload manifests.
export { decodeRoute, encodeRoute, routeRecordKey, isCatalogRouteKey, RouteCatalog, RouteCatalogBuilder, CATALOG_ROUTE_PREFIX, ROUTE_STATES, type Route, type RouteState } from '../cluster/catalog.js';
export { routeOf, type RouteInfo } from '../cluster/route-key.js';
export { parseOffloadManifest, canonicalManifest, goTimeCanonical, type OffloadManifest, type OffloadPayload, type OffloadConfState } from '../store/offload-manifest.js';
