/**
 * decodeSnapshot(): the whole pipeline in one call.
 *
 * Directory output works in a staging directory beside DIR
 * (`DIR.partial-XXXXXX`) that is renamed into place only when the dump is
 * complete; on any failure it is removed and DIR is left as it was (SPEC §2).
 * Tar output streams to a Writable (stdout) and spills to a private
 * directory under --scratch-dir or the OS temp dir, removed at the end.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { DecodeError, ioError } from './errors.js';
import { footerVerdictOfFile } from './core/footer-first.js';
import { bytesOnly, checkDecodeArguments } from './decode-options.js';
import { snapshotIndexFromPath, type DumpManifestInfo } from './core/dump-files.js';
import type { ClusterInput } from './cluster/input.js';
import { openClusterSource } from './cluster/source.js';
import { createKeyClassifier } from './stages/classify.js';
import { createBucketCollector } from './stages/collect.js';
import { createRecordFilter } from './stages/filter.js';
import { createSnapshotReader, type InputFormat } from './stages/read-snapshot.js';
import { createVersionResolver } from './stages/resolve-versions.js';
import { createBlobSpiller } from './stages/spill.js';
import { createDirectorySink } from './sinks/directory.js';
import type { DumpSink, DumpSinkOptions, SinkStats } from './sinks/dump-sink.js';
import { createTarSink } from './sinks/tar.js';
import type { S3Options } from './s3/client.js';
import { isS3Url } from './s3/url.js';
import type { WarningHandler } from './types.js';

/** Options of decodeSnapshot(): where the dump goes, what to include, how strict to be. */
export interface DecodeOptions {
  /** Output directory: must not exist, or be empty. Without it the dump is a tar stream to `tar`. */
  output?: string;
  /** Where the tar stream goes when there is no output directory. */
  tar?: Writable;
  /** gzip the tar stream. */
  gzip?: boolean;
  inputFormat?: InputFormat;
  /** Where chunk payloads are spilled (default: inside the staging directory, or the OS temp dir for tar). */
  scratchDir?: string;
  /** Keep only these buckets (--bucket). */
  buckets?: string[];
  /** Keep only objects whose key starts with this (--prefix). */
  prefix?: string;
  includeIncompleteUploads?: boolean;
  includeOrphans?: boolean;
  renameCollisions?: boolean;
  keepGoing?: boolean;
  /** Size and ETag checks (§5.6); default true. */
  verify?: boolean;
  clusterId?: string;
  snapshotIndex?: bigint;
  /** Keep the staging directory after a failure, for inspection. */
  keepScratch?: boolean;
  onWarning?: WarningHandler;
  /** Called about every progressIntervalMs (default 500) while decoding. */
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /** For MANIFEST.json source.fsm_path when input is a stream (default "-"). */
  sourceName?: string;
  signal?: AbortSignal;
  /** How to reach S3 for `s3://` inputs and outputs (SPEC §11). */
  s3?: S3Options;
}

/** A progress sample. */
export interface Progress {
  bytesRead: number;
  /** Input size, when the input is a regular file. */
  totalBytes: number | undefined;
  /** Records read so far. */
  records: number;
  /** Objects published so far (the sink works after the input is read). */
  objects: number;
  bodyBytes: number;
  elapsedMs: number;
}

/** What a run did: the sink's counts (buckets, objects, skipped, bytes, files) and more. */
export interface Summary extends SinkStats {
  /** The dump directory, or undefined for tar output. */
  output: string | undefined;
  format: 'jsonl' | 'fsm' | undefined;
  bytesRead: number;
  records: {
    s3: Record<string, number>;
    nonS3: number;
    ignored: number;
    unknownS3: number;
    /** Dropped by --bucket / --prefix. */
    filtered: number;
    superseded: number;
    tombstones: number;
  };
  elapsedMs: number;
}

/** What decodeSnapshot reads: a snapshot path ("-" for stdin), a byte stream, or a whole cluster's snapshots (SPEC §10). */
export type DecodeInput = string | Readable | readonly ClusterInput[];

/**
 * Decodes a snapshot (a path, "-" for stdin, or a byte stream) into a dump
 * directory or a tar stream. Given an array of inputs — the snapshots of a
 * cluster's Raft groups (lib/cluster) — their records are merged into one
 * dump (SPEC §10).
 */
export async function decodeSnapshot(input: DecodeInput, options: DecodeOptions): Promise<Summary> {
  checkDecodeArguments(input, options);
  if (options.output !== undefined && isS3Url(options.output)) {
    // The AWS SDK is loaded only by runs that speak S3 (it takes a while to load).
    const { decodeToS3 } = await import('./s3/decode-to-s3.js');
    return decodeToS3(options.output, options, async (scratch, makeSink) => {
      const source = await openSource(input, options);
      try {
        return await run(source, scratch, options, makeSink);
      } catch (err) {
        source.destroy();
        throw err;
      }
    });
  }
  if (options.output !== undefined) return decodeToDirectory(input, options.output, options);
  if (options.tar) return decodeToTar(input, options.tar, options);
  throw new DecodeError('ERR_USAGE', 'give an output directory or a tar stream');
}

async function decodeToDirectory(input: DecodeInput, dir: string, options: DecodeOptions): Promise<Summary> {
  const output = path.resolve(dir);
  await checkOutput(output);
  const source = await openSource(input, options);
  let staging: string;
  try {
    staging = await fsp.mkdtemp(`${output}.partial-`);
  } catch (e) {
    source.destroy();
    throw ioError(e, output, 'cannot create staging directory');
  }
  const work = path.join(staging, '.ekv-work');
  let scratch: string | undefined;
  try {
    await fsp.chmod(staging, 0o755);
    await fsp.mkdir(work, { mode: 0o700 });
    scratch = options.scratchDir ? await makeScratch(options.scratchDir) : work;
    const summary = await run(source, scratch, options, (sinkOpts) => createDirectorySink({ ...sinkOpts, root: staging, tmpDir: work }));
    await fsp.rm(work, { recursive: true, force: true });
    await publishStaging(staging, output);
    return { ...summary, output };
  } catch (err) {
    source.destroy();
    if (!options.keepScratch) await fsp.rm(staging, { recursive: true, force: true }).catch(() => {});
    throw err;
  } finally {
    if (options.scratchDir && scratch) await fsp.rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
}

async function decodeToTar(input: DecodeInput, out: Writable, options: DecodeOptions): Promise<Summary> {
  const source = await openSource(input, options);
  let scratch: string | undefined;
  try {
    scratch = await makeScratch(options.scratchDir ?? os.tmpdir());
    const pack = tar.pack();
    // tar-stream packs are streamx streams, which stream.pipeline accepts.
    const packStream = pack as unknown as Readable;
    const packed = options.gzip ? pipeline(packStream, createGzip(), out) : pipeline(packStream, out);
    // If the consumer goes away (EPIPE), stop decoding too.
    const abort = new AbortController();
    packed.catch((e: unknown) => abort.abort(e));
    const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
    let summary: Summary;
    try {
      summary = await run(source, scratch, { ...options, signal }, (sinkOpts) => createTarSink({ ...sinkOpts, pack, scratchDir: scratch }));
    } catch (err) {
      // Decide before destroying the pack: destroying it rejects `packed` (and so aborts) too.
      const consumerFailed = abort.signal.aborted;
      pack.destroy(err as Error);
      await packed.catch(() => {});
      throw consumerFailed ? ioError(abort.signal.reason, '-', 'cannot write the tar stream') : err;
    }
    await packed.catch((e: unknown) => {
      throw ioError(e, '-', 'cannot write the tar stream');
    });
    return summary;
  } catch (err) {
    source.destroy();
    throw err;
  } finally {
    if (scratch) await fsp.rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
}

/** What run() decodes: one input and its reader, or several merged (lib/cluster/source.ts). */
interface Source {
  /** The streams before the version resolver, first to last. */
  head: Readable[];
  /** Closes the input(s) after a failure. */
  destroy(): void;
  bytesRead(): number;
  records(): number;
  format(): 'jsonl' | 'fsm' | undefined;
  totalBytes: number | undefined;
  /** MANIFEST.json fields that depend on the input. */
  manifest(): Pick<DumpManifestInfo, 'snapshotIndex' | 'lastCommitTs' | 'source' | 'groups'>;
  /** A pipeline failure that is the input's own read error (EISDIR, EIO…), as ERR_IO naming it. */
  readError(err: unknown): DecodeError | undefined;
  /** The one input file, when the input is a file (its footer can judge a later record error). */
  file?: string;
}

async function openSource(input: DecodeInput, options: DecodeOptions): Promise<Source> {
  return typeof input === 'string' || !Array.isArray(input) ? singleSource(input as string | Readable, options) : clusterSource(input as readonly ClusterInput[], options);
}

async function singleSource(input: string | Readable, options: DecodeOptions): Promise<Source> {
  const inputStream = await openInput(input, options);
  const reader = createSnapshotReader(options.inputFormat ? { format: options.inputFormat } : {});
  const name = typeof input === 'string' ? input : (options.sourceName ?? '-');
  const snapshotIndex = options.snapshotIndex ?? (typeof input === 'string' ? snapshotIndexFromPath(input) : undefined);
  return {
    head: [inputStream, ...(inputStream.readableObjectMode ? [bytesOnly()] : []), reader],
    ...(typeof input === 'string' && input !== '-' ? { file: input } : {}),
    destroy: () => inputStream.destroy(),
    bytesRead: () => reader.bytesRead,
    records: () => reader.records,
    format: () => reader.header?.format,
    totalBytes: typeof input === 'string' && input !== '-' ? await fileSize(input) : undefined,
    manifest: () => ({
      ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
      ...(reader.header?.lastCommitTs !== undefined ? { lastCommitTs: reader.header.lastCommitTs } : {}),
      source: name,
    }),
    readError: (err) => (err === inputStream.errored && !options.signal?.aborted ? ioError(err, name, 'cannot read input') : undefined),
  };
}

/** Several inputs (SPEC §10); one input given this way decodes as it would alone, with the input's own checks. */
async function clusterSource(inputs: readonly ClusterInput[], options: DecodeOptions): Promise<Source> {
  const first = inputs[0];
  if (first === undefined) throw new DecodeError('ERR_USAGE', 'no input to decode');
  const c = await openClusterSource(inputs, { ...(options.inputFormat ? { inputFormat: options.inputFormat } : {}), ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
  const snapshotIndex = inputs.length === 1 ? (options.snapshotIndex ?? first.snapshotIndex) : undefined;
  return {
    head: c.head,
    destroy: () => c.merge.destroy(),
    bytesRead: () => c.merge.bytesRead,
    records: () => c.merge.records,
    format: () => c.merge.readers[0]?.header?.format,
    totalBytes: c.totalBytes,
    manifest: () => {
      const lastCommitTs = c.lastCommitTs();
      const groups = c.groups();
      return { ...(snapshotIndex !== undefined ? { snapshotIndex } : {}), ...(lastCommitTs !== undefined ? { lastCommitTs } : {}), source: first.path, ...(groups ? { groups } : {}) };
    },
    readError: () => undefined,
  };
}

/** Runs the stage chain into the sink that makeSink builds. */
async function run(
  source: Source,
  scratch: string,
  options: DecodeOptions,
  makeSink: (opts: DumpSinkOptions) => DumpSink,
): Promise<Summary> {
  const started = Date.now();
  const resolver = createVersionResolver();
  const classifier = createKeyClassifier(options.onWarning ? { onWarning: options.onWarning } : {});
  const verify = options.verify ?? true;
  const filter = createRecordFilter({ ...(options.buckets ? { buckets: options.buckets } : {}), ...(options.prefix !== undefined ? { prefix: options.prefix } : {}) });
  const spiller = createBlobSpiller({ scratchDir: scratch, md5: verify });
  const collector = createBucketCollector({ scratchDir: scratch });
  const flags = {
    includeOrphans: options.includeOrphans ?? false,
    includeIncompleteUploads: options.includeIncompleteUploads ?? false,
    renameCollisions: options.renameCollisions ?? false,
  };
  const sink = makeSink({
    ...flags,
    verify,
    scratchDir: scratch,
    keepGoing: options.keepGoing ?? false,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    manifestInfo: () => ({
      ...(options.clusterId ? { clusterId: options.clusterId } : {}),
      ...source.manifest(),
    }),
  });
  const sample = (): Progress => ({
    bytesRead: source.bytesRead(),
    totalBytes: source.totalBytes,
    records: source.records(),
    objects: sink.stats.objects,
    bodyBytes: sink.stats.bodyBytes,
    elapsedMs: Date.now() - started,
  });
  const onProgress = options.onProgress;
  const timer = onProgress ? setInterval(() => onProgress(sample()), options.progressIntervalMs ?? 500) : undefined;
  timer?.unref();
  try {
    try {
    await pipeline([...source.head, resolver, classifier, filter, spiller, collector, sink], options.signal ? { signal: options.signal } : {});
  } catch (err) {
    // A record error of a later stage in a native file with a footer: the footer speaks first.
    // (The reader's own ERR_SNAPSHOT_* errors were judged by it: lib/core/footer-first.ts.)
    if (err instanceof DecodeError && err.code.startsWith('ERR_S3_') && source.format() === 'fsm' && source.file !== undefined) {
      throw await footerVerdictOfFile(source.file, err);
    }
    // A read error of the input (EISDIR, EIO, ECONNRESET…) is ERR_IO naming the input.
    throw source.readError(err) ?? err;
  }
  } finally {
    clearInterval(timer);
  }
  onProgress?.(sample());
  return {
    output: undefined,
    format: source.format(),
    bytesRead: source.bytesRead(),
    records: { s3: { ...classifier.stats.s3 }, nonS3: classifier.stats.nonS3, ignored: classifier.stats.ignored, unknownS3: classifier.stats.unknownS3, filtered: filter.stats.dropped, ...resolver.stats },
    ...sink.stats,
    elapsedMs: Date.now() - started,
  };
}

async function fileSize(p: string): Promise<number | undefined> {
  const st = await fsp.stat(p).catch(() => undefined);
  return st?.isFile() ? st.size : undefined;
}

async function makeScratch(parent: string): Promise<string> {
  try {
    return await fsp.mkdtemp(path.join(path.resolve(parent), 'ekv-s3-decode-'));
  } catch (e) {
    throw ioError(e, parent, 'cannot create scratch directory');
  }
}

/** DIR must be absent or an empty directory, and its parent must exist. */
async function checkOutput(output: string): Promise<void> {
  const parent = path.dirname(output);
  let parentStat: fs.Stats;
  try {
    parentStat = await fsp.stat(parent);
  } catch {
    throw new DecodeError('ERR_USAGE', `parent of the output directory does not exist: ${parent}`);
  }
  if (!parentStat.isDirectory()) throw new DecodeError('ERR_USAGE', `parent of the output directory is not a directory: ${parent}`);
  let st: fs.Stats;
  try {
    st = await fsp.lstat(output);
  } catch {
    return; // absent: fine
  }
  if (st.isSymbolicLink()) throw new DecodeError('ERR_USAGE', `output is a symbolic link (not followed): ${output}`);
  if (!st.isDirectory()) throw new DecodeError('ERR_USAGE', `output exists and is not a directory: ${output}`);
  if ((await fsp.readdir(output)).length > 0) throw new DecodeError('ERR_USAGE', `output directory is not empty: ${output}`);
}

async function openInput(input: string | Readable, options: DecodeOptions): Promise<Readable> {
  if (typeof input !== 'string') return input;
  if (isS3Url(input)) return (await import('./s3/decode-to-s3.js')).openS3Input(input, options);
  if (input === '-') {
    // Node hands out an empty stream for a stdin it cannot classify, such as
    // a directory (`< dir`): refuse it rather than decode nothing.
    let isDir = false;
    try {
      isDir = fs.fstatSync(0).isDirectory();
    } catch {
      /* let the stream report it */
    }
    if (isDir) throw ioError(Object.assign(new Error('illegal operation on a directory'), { code: 'EISDIR' }), '-', 'cannot read input');
    return process.stdin;
  }
  return openInputFile(input);
}

/** A snapshot file as a stream of 1 MiB reads, or `readSize` (ERR_IO naming it when it cannot be opened). */
export async function openInputFile(file: string, readSize = 1 << 20): Promise<Readable> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    throw ioError(e, file, 'cannot open input');
  }
  return fh.createReadStream({ highWaterMark: readSize });
}

/** Moves the finished staging directory to DIR (an empty DIR is replaced: rename(2) allows it). */
async function publishStaging(staging: string, output: string): Promise<void> {
  try {
    await fsp.rename(staging, output);
  } catch (e) {
    throw ioError(e, output, 'cannot publish the dump (is the output directory still empty?)');
  }
}
