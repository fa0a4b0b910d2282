/**
 * One snapshot of a whole-cluster dump (SPEC §10): where its bytes come
 * from and what is known about it before it is read (group id, snapshot
 * index), plus checks that only make sense once it has been read to its end.
 */
import type { Readable } from 'node:stream';
import { DecodeError } from '../errors.js';
import { openInputFile } from '../io/input-file.js';
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
 * Read size per input of a merge: every input holds about one read buffer
 * ahead while it waits its turn, so memory grows by this per input (a lone
 * input reads 4 MiB at a time: lib/io/input-file.ts).
 */
export const CLUSTER_READ_SIZE = 256 * 1024;

/** The group id a path names in a `group-<N>` component, as a node's data directory does. */
export function groupIdFromPath(p: string): bigint | undefined {
  let id: bigint | undefined;
  for (const part of p.split(/[/\\]/)) {
    const m = /^group-([0-9]{1,20})$/.exec(part);
    if (m) id = BigInt(m[1]!);
  }
  return id;
}

/** A snapshot file named on the command line ("-": standard input); group id and index from its path, as a node names them. */
export function fileInput(path: string, extra: Partial<Omit<ClusterInput, 'path' | 'open'>> = {}): ClusterInput {
  const groupId = extra.groupId ?? groupIdFromPath(path);
  const snapshotIndex = extra.snapshotIndex ?? snapshotIndexFromPath(path);
  const open = path === '-' ? () => Promise.resolve(process.stdin) : () => openInputFile(path, CLUSTER_READ_SIZE);
  return { path, ...extra, ...(groupId !== undefined ? { groupId } : {}), ...(snapshotIndex !== undefined ? { snapshotIndex } : {}), open };
}

/** Assigns `--group-ids` to inputs in order; their count must match. */
export function withGroupIds(inputs: ClusterInput[], ids: bigint[]): ClusterInput[] {
  if (ids.length !== inputs.length) throw new DecodeError('ERR_USAGE', `--group-ids names ${ids.length} groups for ${inputs.length} inputs`);
  return inputs.map((input, i) => ({ ...input, groupId: ids[i]! }));
}
