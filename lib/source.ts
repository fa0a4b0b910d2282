/**
 * The Source of a run: what decodeSnapshot reads, as the streams before the
 * version resolver and the facts the summary and MANIFEST.json need. One
 * input (a file, stdin, a byte stream, an s3:// object) has one reader; a
 * cluster's inputs are merged (lib/cluster/source.ts).
 */
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DecodeError, ioError } from './errors.js';
import { bytesOnly } from './decode-options.js';
import { snapshotIndexFromPath, type DumpManifestInfo } from './core/dump-files.js';
import type { ClusterInput } from './cluster/input.js';
import { openInputFile, SHARED_READ_BYTES } from './io/input-file.js';
import { openStdin } from './io/stdin.js';
import { createSnapshotReader } from './stages/read-snapshot.js';
import { isS3Url } from './s3/url.js';
import type { DecodeInput, DecodeOptions } from './decode.js';

/** What a run decodes: one input and its reader, or several merged (lib/cluster/source.ts). */
export interface Source {
  /** The streams before the version resolver, first to last. */
  head: Readable[];
  /** Closes the input(s) after a failure. */
  destroy(): void;
  bytesRead(): number;
  records(): number;
  format(): 'jsonl' | 'fsm' | undefined;
  /** After the end: whether every native input's CRC32C footer was verified (undefined when no input is native, or every one is checked by its digest). */
  footerVerified(): boolean | undefined;
  totalBytes: number | undefined;
  /** MANIFEST.json fields that depend on the input. */
  manifest(): Pick<DumpManifestInfo, 'snapshotIndex' | 'lastCommitTs' | 'source' | 'groups'>;
  /** A pipeline failure that is the input's own read error (EISDIR, EIO…), as ERR_IO naming it. */
  readError(err: unknown): DecodeError | undefined;
  /** The one input file, when the input is a file (its footer can judge a later record error). */
  file?: string;
  /** Tells the reader the run's scratch directory (where a long JSON line's value waits). */
  useScratch?(dir: string): void;
}

export async function openSource(input: DecodeInput, options: DecodeOptions): Promise<Source> {
  return typeof input === 'string' || !Array.isArray(input) ? singleSource(input as string | Readable, options) : clusterSource(input as readonly ClusterInput[], options);
}

async function singleSource(input: string | Readable, options: DecodeOptions): Promise<Source> {
  const inputStream = await openInput(input, options);
  const name = typeof input === 'string' ? input : (options.sourceName ?? '-');
  const reader = createSnapshotReader({ source: name, emptyIsError: true, valuePieces: true, ...(options.inputFormat ? { format: options.inputFormat } : {}), ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
  const snapshotIndex = options.snapshotIndex ?? (typeof input === 'string' ? snapshotIndexFromPath(input) : undefined);
  return {
    head: [inputStream, ...(inputStream.readableObjectMode ? [bytesOnly()] : []), reader],
    ...(typeof input === 'string' && input !== '-' ? { file: input } : {}),
    destroy: () => inputStream.destroy(),
    useScratch: (dir) => void (reader.scratchDir = dir),
    bytesRead: () => reader.bytesRead,
    records: () => reader.records,
    format: () => reader.header?.format,
    footerVerified: () => reader.footerVerified,
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
  const { openClusterSource } = await import('./cluster/source.js');
  const c = await openClusterSource(inputs, { ...(options.inputFormat ? { inputFormat: options.inputFormat } : {}), ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
  const snapshotIndex = inputs.length === 1 ? (options.snapshotIndex ?? first.snapshotIndex) : undefined;
  return {
    head: c.head,
    destroy: () => c.merge.destroy(),
    useScratch: (dir) => c.merge.readers.forEach((r) => void (r.scratchDir = dir)),
    bytesRead: () => c.merge.bytesRead,
    records: () => c.merge.records,
    format: () => c.merge.readers[0]?.header?.format,
    footerVerified: () => {
      // Offloaded inputs are checked by their digest instead (ClusterInput.verify).
      const native = c.merge.readers.filter((r, i) => r.footerVerified !== undefined && inputs[i]?.verify === undefined);
      return native.length === 0 ? undefined : native.every((r) => r.footerVerified);
    },
    totalBytes: c.totalBytes,
    manifest: () => {
      const lastCommitTs = c.lastCommitTs();
      const groups = c.groups();
      return { ...(snapshotIndex !== undefined ? { snapshotIndex } : {}), ...(lastCommitTs !== undefined ? { lastCommitTs } : {}), source: first.path, ...(groups ? { groups } : {}) };
    },
    readError: () => undefined,
  };
}

async function fileSize(p: string): Promise<number | undefined> {
  const st = await fsp.stat(p).catch(() => undefined);
  return st?.isFile() ? st.size : undefined;
}

async function openInput(input: string | Readable, options: DecodeOptions): Promise<Readable> {
  if (typeof input !== 'string') return input;
  if (isS3Url(input)) return (await import('./s3/decode-to-s3.js')).openS3Input(input, options);
  if (input === '-') return openStdin({ readSize: SHARED_READ_BYTES, shared: true });
  return openInputFile(input, { readSize: SHARED_READ_BYTES, shared: true });
}
