/**
 * decodeSnapshot(): the whole pipeline in one call.
 *
 * Directory output works in a staging directory beside DIR
 * (`DIR.partial-XXXXXX`) that is renamed into place only when the dump is
 * complete — or, when DIR exists (empty), inside it, whose entries are then
 * moved up (lib/io/output-dir.ts); on any failure it is removed and DIR is
 * left as it was (SPEC §2).
 * Tar output streams to a Writable (stdout) and spills to a private
 * directory under --scratch-dir or the OS temp dir, removed at the end.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecodeError, ioError } from './errors.js';
import { footerVerdictOfFile } from './core/footer-first.js';
import { checkDecodeArguments } from './decode-options.js';
import type { ClusterInput } from './cluster/input.js';
import { checkOutput, checkScratchOutside, INNER_STAGING_PREFIX, publishInto, publishStaging } from './io/output-dir.js';
import { removeTree } from './io/remove-tree.js';
import { openSource, type Source } from './source.js';
import { createKeyClassifier } from './stages/classify.js';
import { createBucketCollector } from './stages/collect.js';
import { createRecordFilter } from './stages/filter.js';
import type { InputFormat } from './stages/read-snapshot.js';
import { createVersionResolver } from './stages/resolve-versions.js';
import { createBlobSpiller } from './stages/spill.js';
import type { DumpSink, DumpSinkOptions, SinkStats } from './sinks/dump-sink.js';
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
  /** Native input: whether its CRC32C footer was there and matched (every input's, for several); undefined for JSON lines. */
  footerVerified: boolean | undefined;
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
  // An existing (empty) DIR may be a mount point or the shell's cwd: stage inside it, keep it.
  const inside = await checkOutput(output);
  if (options.scratchDir !== undefined) await checkScratchOutside(output, options.scratchDir);
  const source = await openSource(input, options);
  let staging: string;
  try {
    staging = await fsp.mkdtemp(inside ? path.join(output, INNER_STAGING_PREFIX) : `${output}.partial-`);
  } catch (e) {
    source.destroy();
    throw ioError(e, output, 'cannot create staging directory');
  }
  const work = path.join(staging, '.ekv-work');
  let scratch: string | undefined;
  try {
    if (!inside) await fsp.chmod(staging, 0o755);
    await fsp.mkdir(work, { mode: 0o700 });
    scratch = options.scratchDir ? await makeScratch(options.scratchDir) : work;
    // Each output mode loads its own sink: a CLI run starts faster without the other's modules.
    const { createDirectorySink } = await import('./sinks/directory.js');
    // Runs are published by rename: where their MD5s are not read back, written past the page cache.
    const summary = await run(source, scratch, options, (sinkOpts) => createDirectorySink({ ...sinkOpts, root: staging, tmpDir: work }), true);
    await fsp.rm(work, { recursive: true, force: true });
    await (inside ? publishInto(staging, output) : publishStaging(staging, output));
    return { ...summary, output };
  } catch (err) {
    source.destroy();
    // A failed dump may hold millions of files: removed a few at a time (lib/io/remove-tree.ts), not all at once.
    if (!options.keepScratch) await removeTree(staging).catch(() => {});
    throw err;
  } finally {
    if (options.scratchDir && scratch) await fsp.rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * Whether `out` is done with a chunk once its write has completed (so the
 * chunk's buffer may be used again): a socket, pipe or terminal, a file
 * stream, or Node's synchronous file stream (stdout to a file). Judged by
 * the stream's class, not by `out === process.stdout`: what stands in for
 * stdout may keep the chunks it is given (a test harness collecting them),
 * and so may a PassThrough or a caller's Transform.
 */
function writesThrough(out: Writable): boolean {
  return out instanceof net.Socket || out instanceof fs.WriteStream || out.constructor.name === 'SyncWriteStream';
}

async function decodeToTar(input: DecodeInput, out: Writable, options: DecodeOptions): Promise<Summary> {
  return inScratch(input, options, async (source, scratch) => {
    const [{ default: tar }, { createGzip }, { createTarSink }, { createWriteCoalescer }] = await Promise.all([
      import('tar-stream'),
      import('node:zlib'),
      import('./sinks/tar.js'),
      import('./io/write-coalescer.js'),
    ]);
    const pack = tar.pack();
    // tar-stream packs are streamx streams, which stream.pipeline accepts.
    const packStream = pack as unknown as Readable;
    // The pack's headers, bodies and paddings gathered into 64 KiB writes (lib/io/write-coalescer.ts),
    // their buffers used again once written, when the stream written to is known to be done with a chunk then.
    const gzip = options.gzip ? createGzip() : undefined;
    const blocks = gzip !== undefined || writesThrough(out);
    const coalescer = createWriteCoalescer(undefined, blocks ? (gzip ?? out) : undefined);
    const packed = gzip ? pipeline(packStream, coalescer, gzip, out) : pipeline(packStream, coalescer, out);
    // If the consumer goes away (EPIPE), stop decoding too.
    const abort = new AbortController();
    packed.catch((e: unknown) => abort.abort(e));
    const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
    let summary: Summary;
    try {
      summary = await run(source, scratch, { ...options, signal }, (sinkOpts) => createTarSink({ ...sinkOpts, pack, scratchDir: scratch, blocks }));
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
  });
}

/**
 * Decodes a snapshot as decodeSnapshot() would, but writes only the dump's
 * CHECKSUMS, to `file` (created; must not exist): every object is still
 * planned, verified and hashed, no other file is written. For the
 * encoder's self-test (SPEC §12), which compares it with the input dump's.
 */
export async function decodeChecksums(input: string, file: string, options: Pick<DecodeOptions, 'scratchDir' | 'renameCollisions' | 'onWarning' | 'signal'>): Promise<Summary> {
  return inScratch(input, options, async (source, scratch) => {
    const { createChecksumsSink } = await import('./sinks/checksums-target.js');
    return run(source, scratch, options, (sinkOpts) => createChecksumsSink(file, sinkOpts));
  });
}

/**
 * Opens the input and a scratch directory (in --scratch-dir, else TMPDIR)
 * for `body`; on failure the input is destroyed, and the scratch is removed
 * either way — a few files at a time, since runs published whole stay there
 * (one file per large object). The shape of a decode whose output is not a
 * directory: a tar stream, or the self-test's CHECKSUMS.
 */
async function inScratch<T>(input: DecodeInput, options: DecodeOptions, body: (source: Source, scratch: string) => Promise<T>): Promise<T> {
  const source = await openSource(input, options);
  let scratch: string | undefined;
  try {
    scratch = await makeScratch(options.scratchDir ?? os.tmpdir());
    return await body(source, scratch);
  } catch (err) {
    source.destroy();
    throw err;
  } finally {
    if (scratch) await removeTree(scratch).catch(() => {});
  }
}


/** Runs the stage chain into the sink that makeSink builds. */
async function run(
  source: Source,
  scratch: string,
  options: DecodeOptions,
  makeSink: (opts: DumpSinkOptions) => DumpSink,
  /** The sink publishes runs by rename (a directory): they may be written with O_DIRECT. */
  direct = false,
): Promise<Summary> {
  const started = Date.now();
  source.useScratch?.(scratch);
  const resolver = createVersionResolver();
  const classifier = createKeyClassifier(options.onWarning ? { onWarning: options.onWarning } : {});
  const verify = options.verify ?? true;
  const filters = { ...(options.buckets?.length ? { buckets: options.buckets } : {}), ...(options.prefix ? { prefix: options.prefix } : {}) };
  // No --bucket or --prefix: no filter stage (a stage passing every record on costs each one a hop, ~0.5 µs).
  const filter = Object.keys(filters).length > 0 ? createRecordFilter({ ...filters, ...(options.onWarning ? { onWarning: options.onWarning } : {}) }) : undefined;
  const spiller = createBlobSpiller({ scratchDir: scratch, md5: verify, direct });
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
      ...(Object.keys(filters).length > 0 ? { filters } : {}),
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
    await pipeline([...source.head, resolver, classifier, ...(filter ? [filter] : []), spiller, collector, sink], options.signal ? { signal: options.signal } : {});
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
    footerVerified: source.footerVerified(),
    bytesRead: source.bytesRead(),
    records: { s3: { ...classifier.stats.s3 }, nonS3: classifier.stats.nonS3, ignored: classifier.stats.ignored, unknownS3: classifier.stats.unknownS3, filtered: filter?.stats.dropped ?? 0, ...resolver.stats },
    ...sink.stats,
    elapsedMs: Date.now() - started,
  };
}


async function makeScratch(parent: string): Promise<string> {
  try {
    return await fsp.mkdtemp(path.join(path.resolve(parent), 'ekv-s3-decode-'));
  } catch (e) {
    throw ioError(e, parent, 'cannot create scratch directory');
  }
}
