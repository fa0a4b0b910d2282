/**
 * One snapshot of a whole-cluster dump (SPEC §10): where its bytes come
 * from and what is known about it before it is read (group id, snapshot
 * index), plus checks that only make sense once it has been read to its end.
 */
import type { Readable } from 'node:stream';
import { DecodeError } from '../errors.js';
import { openInputFile } from '../io/input-file.js';
import { openStdin } from '../io/stdin.js';
import { snapshotIndexFromPath } from '../core/dump-files.js';

/** What a reader learnt by the end of an input, for the input's own checks. */
export interface InputEnd {
  /** Bytes read. */
  bytes: number;
  /** The native input's CRC32C footer (it matched), undefined without one. */
  footerCrc: number | undefined;
}

/** One input of a whole-cluster run: how to read it and what is known about it beforehand. */
export interface ClusterInput {
  /** Shown in messages, and MANIFEST.json `groups[].path`. */
  path: string;
  groupId?: bigint;
  snapshotIndex?: bigint;
  /** Input size in bytes, when known (progress). */
  size?: number;
  /** Fail unless the input is native and ends with a CRC32C footer (files a node wrote always do). */
  requireFooter?: boolean;
  /** The input's bytes. */
  open(): Promise<Readable>;
  /** Called once the input was read to its end; throws a DecodeError to fail the run before anything is published. */
  verify?(end: InputEnd): void;
}

/**
 * The smallest read size per input of a merge: every input holds a few read
 * buffers at once (one ahead while it waits its turn, and the reads that
 * values passed on still lie in), so memory grows with reads × inputs.
 */
export const CLUSTER_READ_SIZE = 256 * 1024;
/** Read buffers of a merge's inputs, one read each, in all. */
const CLUSTER_READ_BUDGET = 16 << 20;

/**
 * Read size per input of a merge of `inputs` files: 4 MiB, as a lone input
 * reads (a blob chunk then lies inside one read and is passed on without a
 * copy: lib/io/shared-blocks.ts), for up to 4 inputs; halved as inputs are
 * added, down to CLUSTER_READ_SIZE. On bench row (a) over 4 groups, 4 MiB
 * against 256 KiB reads: 0.3–0.5 s less CPU, 30–50 MiB more peak RSS.
 */
export function clusterReadSize(inputs: number): number {
  let size = 4 << 20;
  while (size > CLUSTER_READ_SIZE && size * inputs > CLUSTER_READ_BUDGET) size /= 2;
  return size;
}

/** The group id a path names in a `group-<N>` component, as a node's data directory does. */
export function groupIdFromPath(p: string): bigint | undefined {
  let id: bigint | undefined;
  for (const part of p.split(/[/\\]/)) {
    const m = /^group-([0-9]{1,20})$/.exec(part);
    if (m) id = BigInt(m[1]!);
  }
  return id;
}

/** A snapshot file named on the command line ("-": standard input), read `readSize` bytes at a time; group id and index from its path, as a node names them. */
export function fileInput(path: string, extra: Partial<Omit<ClusterInput, 'path' | 'open'>> = {}, readSize = CLUSTER_READ_SIZE): ClusterInput {
  const groupId = extra.groupId ?? groupIdFromPath(path);
  const snapshotIndex = extra.snapshotIndex ?? snapshotIndexFromPath(path);
  const open = path === '-' ? async () => openStdin({ readSize, shared: true }) : () => openInputFile(path, { readSize, shared: true });
  return { path, ...extra, ...(groupId !== undefined ? { groupId } : {}), ...(snapshotIndex !== undefined ? { snapshotIndex } : {}), open };
}

/** Assigns `--group-ids` to inputs in order; their count must match. */
export function withGroupIds(inputs: ClusterInput[], ids: bigint[]): ClusterInput[] {
  if (ids.length !== inputs.length) throw new DecodeError('ERR_USAGE', `--group-ids names ${ids.length} groups for ${inputs.length} inputs`);
  return inputs.map((input, i) => ({ ...input, groupId: ids[i]! }));
}
