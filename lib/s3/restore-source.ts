/**
 * The SOURCE of restore-objects (SPEC §11): a dump directory, a dump
 * tar / tar.gz, or a snapshot (a native or JSON-lines file, or an
 * `s3://BUCKET/KEY` snapshot object). Restoring reads the dump as a
 * directory — bucket names, KEYMAP and sidecars before any body — which a
 * tar's order does not give, so an archive is unpacked and a snapshot
 * decoded (with every check of ekv-s3-decode) into a private scratch
 * directory first, removed afterwards whatever happens. A snapshot that
 * does not decode fails before anything is uploaded.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeSnapshot } from '../decode.js';
import { openInputFile } from '../io/input-file.js';
import { removeTree } from '../io/remove-tree.js';
import { extractDumpTar } from '../encode/tar-extract.js';
import { ioError } from '../errors.js';
import type { WarningHandler } from '../types.js';
import type { S3Options } from './client.js';
import { isS3Url } from './url.js';

/** What a SOURCE holds. */
export type RestoreSourceKind = 'directory' | 'tar' | 'snapshot';

/** How a SOURCE that is not a directory is turned into one. */
export interface RestoreSourceOptions {
  /** Where the scratch directory goes (default: the system's temporary directory). */
  scratchDir?: string;
  /** For an s3:// snapshot. */
  s3?: S3Options;
  /** Warnings of decoding a snapshot. */
  onWarning?: WarningHandler;
  /** Stops unpacking or decoding (the scratch directory is removed all the same). */
  signal?: AbortSignal;
}

const TAR_MAGIC = Buffer.from('ustar', 'latin1');

/** Tells the kinds apart: a directory; gzip or a ustar header (at byte 257) is an archive; anything else a snapshot for the decoder to judge. */
export async function restoreSourceKind(source: string): Promise<RestoreSourceKind> {
  if (isS3Url(source)) return 'snapshot';
  const st = await fsp.stat(source).catch((e: unknown) => {
    throw ioError(e, source, 'cannot read SOURCE');
  });
  if (st.isDirectory()) return 'directory';
  const head = Buffer.alloc(512);
  let n: number;
  try {
    const fh = await fsp.open(source, 'r');
    try {
      ({ bytesRead: n } = await fh.read(head, 0, head.length, 0));
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw ioError(e, source, 'cannot read SOURCE');
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar';
  if (n >= 262 && head.subarray(257, 262).equals(TAR_MAGIC)) return 'tar';
  return 'snapshot';
}

/** Calls fn with SOURCE as a dump directory: itself, or its unpacked / decoded copy in scratch. */
export async function withDumpDirectory<T>(source: string, opts: RestoreSourceOptions, fn: (dir: string, kind: RestoreSourceKind) => Promise<T>): Promise<T> {
  const kind = await restoreSourceKind(source);
  if (kind === 'directory') return fn(source, kind);
  const parent = path.resolve(opts.scratchDir ?? os.tmpdir());
  const scratch = await fsp.mkdtemp(path.join(parent, 'ekv-s3-restore-')).catch((e: unknown) => {
    throw ioError(e, parent, 'cannot create scratch directory');
  });
  try {
    const dir = path.join(scratch, 'dump');
    if (kind === 'tar') {
      await fsp.mkdir(dir, { mode: 0o700 });
      await extractDumpTar(await openInputFile(source), dir, opts.signal);
    } else {
      await decodeSnapshot(source, { output: dir, scratchDir: scratch, ...(opts.s3 ? { s3: opts.s3 } : {}), ...(opts.onWarning ? { onWarning: opts.onWarning } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    }
    return await fn(dir, kind);
  } finally {
    await removeTree(scratch);
  }
}
