/**
 * decodeSnapshot(): the whole pipeline in one call. Output goes to a staging
 * directory beside DIR (`DIR.partial-XXXXXX`) that is renamed into place only
 * when the dump is complete; on any failure it is removed and DIR is left as
 * it was (SPEC §2).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecodeError, ioError } from './errors.js';
import { snapshotIndexFromPath } from './core/manifest.js';
import { createKeyClassifier } from './stages/classify.js';
import { createManifestCollector } from './stages/collect.js';
import { createSnapshotReader, type InputFormat } from './stages/read-snapshot.js';
import { createVersionResolver } from './stages/resolve-versions.js';
import { createBlobSpiller } from './stages/spill.js';
import { createDirectorySink } from './sinks/directory.js';
import { VERSION } from './version.js';
import type { SnapshotHeader, WarningHandler } from './types.js';

export interface DecodeOptions {
  /** Output directory: must not exist, or be empty. */
  output: string;
  inputFormat?: InputFormat;
  /** Where chunk payloads are spilled (default: inside the staging directory). */
  scratchDir?: string;
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
  /** For MANIFEST.json source.fsm_path when input is a stream (default "-"). */
  sourceName?: string;
  signal?: AbortSignal;
}

export interface Summary {
  output: string;
  format: 'jsonl' | 'fsm' | undefined;
  bytesRead: number;
  records: {
    s3: Record<string, number>;
    nonS3: number;
    ignored: number;
    unknownS3: number;
    superseded: number;
    tombstones: number;
  };
  buckets: number;
  objects: number;
  skipped: number;
  bodyBytes: number;
  filesWritten: number;
  bytesWritten: number;
  elapsedMs: number;
}

/** Decodes a snapshot (a path, "-" for stdin, or a byte stream) into a dump directory. */
export async function decodeSnapshot(input: string | Readable, options: DecodeOptions): Promise<Summary> {
  const started = Date.now();
  const output = path.resolve(options.output);
  await checkOutput(output);
  const source = typeof input === 'string' ? input : (options.sourceName ?? '-');
  const inputStream = await openInput(input);

  let staging: string;
  try {
    staging = await fsp.mkdtemp(`${output}.partial-`);
  } catch (e) {
    inputStream.destroy();
    throw ioError(e, output, 'cannot create staging directory');
  }
  const work = path.join(staging, '.ekv-work');
  const scratch = options.scratchDir ? await fsp.mkdtemp(path.join(path.resolve(options.scratchDir), 'ekv-s3-decode-')) : path.join(work, 'scratch');
  try {
    await fsp.mkdir(work, { recursive: true, mode: 0o700 });
    await fsp.mkdir(scratch, { recursive: true, mode: 0o700 });
    await fsp.chmod(staging, 0o755);

    const reader = createSnapshotReader(options.inputFormat ? { format: options.inputFormat } : {});
    let header: SnapshotHeader | undefined;
    reader.on('header', (h: SnapshotHeader) => (header = h));
    const resolver = createVersionResolver();
    const classifier = createKeyClassifier(options.onWarning ? { onWarning: options.onWarning } : {});
    const verify = options.verify ?? true;
    const spiller = createBlobSpiller({ scratchDir: scratch, md5: verify });
    const collector = createManifestCollector();
    const snapshotIndex = options.snapshotIndex ?? (typeof input === 'string' ? snapshotIndexFromPath(input) : undefined);
    const sink = createDirectorySink({
      root: staging,
      tmpDir: work,
      includeOrphans: options.includeOrphans ?? false,
      includeIncompleteUploads: options.includeIncompleteUploads ?? false,
      renameCollisions: options.renameCollisions ?? false,
      verify,
      keepGoing: options.keepGoing ?? false,
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      manifestInfo: () => ({
        ...(options.clusterId ? { clusterId: options.clusterId } : {}),
        ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
        ...(header?.lastCommitTs !== undefined ? { lastCommitTs: header.lastCommitTs } : {}),
        wallTime: new Date(),
        source,
        includeIncompleteUploads: options.includeIncompleteUploads ?? false,
        includeOrphans: options.includeOrphans ?? false,
        renameCollisions: options.renameCollisions ?? false,
        decoder: `ekv-s3-decode ${VERSION}`,
      }),
    });
    await pipeline(inputStream, reader, resolver, classifier, spiller, collector, sink, options.signal ? { signal: options.signal } : {});

    await fsp.rm(work, { recursive: true, force: true });
    if (options.scratchDir) await fsp.rm(scratch, { recursive: true, force: true });
    await publishStaging(staging, output);
    return {
      output,
      format: header?.format,
      bytesRead: reader.bytesRead,
      records: { s3: { ...classifier.stats.s3 }, nonS3: classifier.stats.nonS3, ignored: classifier.stats.ignored, unknownS3: classifier.stats.unknownS3, ...resolver.stats },
      buckets: sink.stats.buckets,
      objects: sink.stats.objects,
      skipped: sink.stats.skipped,
      bodyBytes: sink.stats.bodyBytes,
      filesWritten: sink.stats.filesWritten,
      bytesWritten: sink.stats.bytesWritten,
      elapsedMs: Date.now() - started,
    };
  } catch (err) {
    inputStream.destroy();
    if (options.scratchDir) await fsp.rm(scratch, { recursive: true, force: true }).catch(() => {});
    if (!options.keepScratch) await fsp.rm(staging, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/** DIR must be absent or an empty directory, and its parent must exist. */
async function checkOutput(output: string): Promise<void> {
  const parent = path.dirname(output);
  try {
    const st = await fsp.stat(parent);
    if (!st.isDirectory()) throw new DecodeError('ERR_USAGE', `parent of the output directory is not a directory: ${parent}`);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError('ERR_USAGE', `parent of the output directory does not exist: ${parent}`);
  }
  let st: fs.Stats;
  try {
    st = await fsp.lstat(output);
  } catch {
    return; // absent: fine
  }
  if (!st.isDirectory()) throw new DecodeError('ERR_USAGE', `output exists and is not a directory: ${output}`);
  const entries = await fsp.readdir(output);
  if (entries.length > 0) throw new DecodeError('ERR_USAGE', `output directory is not empty: ${output}`);
}

async function openInput(input: string | Readable): Promise<Readable> {
  if (typeof input !== 'string') return input;
  if (input === '-') return process.stdin;
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(input, 'r');
  } catch (e) {
    throw ioError(e, input, 'cannot open input');
  }
  return fh.createReadStream({ highWaterMark: 1 << 20 });
}

/** Moves the finished staging directory to DIR (replacing an empty DIR). */
async function publishStaging(staging: string, output: string): Promise<void> {
  try {
    await fsp.rename(staging, output);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR') throw ioError(e, output, 'cannot publish the dump');
    await fsp.rmdir(output).catch((e2) => {
      throw ioError(e2, output, 'output directory is no longer empty');
    });
    await fsp.rename(staging, output).catch((e3) => {
      throw ioError(e3, output, 'cannot publish the dump');
    });
  }
}
