/**
 * Several snapshots as one record source for decodeSnapshot (SPEC §10):
 * merge → ownership filter → conflict report, then the usual resolver →
 * classifier → … chain. With one input only the merge runs (its checks
 * — data-dir footers, offload digests — still apply), so the records and
 * the MANIFEST are those of a plain one-input run.
 */
import type { Readable } from 'node:stream';
import type { GroupEntry } from '../core/dump-files.js';
import type { InputFormat } from '../stages/read-snapshot.js';
import type { WarningHandler } from '../types.js';
import { createConflictDetector } from './conflicts.js';
import type { ClusterInput } from './input.js';
import { openClusterMerge, type ClusterMerge, type InputReport } from './merge.js';
import { createOwnershipFilter } from './ownership.js';

/** Options of openClusterSource(). */
export interface ClusterSourceOptions {
  inputFormat?: InputFormat;
  onWarning?: WarningHandler;
}

/** The merged record stream of several inputs and what the run reports about them. */
export interface ClusterSource {
  /** The stages before the version resolver, first to last. */
  head: Readable[];
  merge: ClusterMerge;
  /** Sum of the input sizes, when every one is known. */
  totalBytes: number | undefined;
  /** MANIFEST.json `groups` (absent with one input, SPEC §10 rule 4). */
  groups(): GroupEntry[] | undefined;
  /** The maximum lastCommitTS over the inputs. */
  lastCommitTs(): bigint | undefined;
}

/** Opens every input and chains merge, ownership filter and conflict report (the last two only with several inputs). */
export async function openClusterSource(inputs: readonly ClusterInput[], opts: ClusterSourceOptions = {}): Promise<ClusterSource> {
  const merge = await openClusterMerge(inputs, { ...(opts.inputFormat ? { inputFormat: opts.inputFormat } : {}), ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
  // The inputs are read from now on: one that fails before the run's pipeline
  // takes the merge (an empty or garbage file) must not be an uncaught 'error'.
  // The merge is destroyed with that error, which the pipeline then reports.
  merge.on('error', () => {});
  const paths = inputs.map((i) => i.path);
  const head: Readable[] = [merge];
  if (inputs.length > 1) {
    const warn = opts.onWarning ? { onWarning: opts.onWarning } : {};
    head.push(createOwnershipFilter({ groupIds: inputs.map((i) => i.groupId), paths, ...warn }));
    head.push(createConflictDetector({ paths, sorted: () => merge.sorted, ...warn }));
  }
  const sizes = inputs.map((i) => i.size);
  return {
    head,
    merge,
    totalBytes: sizes.every((s) => s !== undefined) ? sizes.reduce((a, b) => a + b, 0) : undefined,
    groups: () => (inputs.length > 1 ? groupEntries(merge.reports()) : undefined),
    lastCommitTs: () => merge.reports().reduce<bigint | undefined>((m, r) => (r.lastCommitTs !== undefined && (m === undefined || r.lastCommitTs > m) ? r.lastCommitTs : m), undefined),
  };
}

/** One entry per input, sorted by group id (unknown last), then path. */
export function groupEntries(reports: InputReport[]): GroupEntry[] {
  const sorted = [...reports].sort((a, b) => {
    if (a.groupId !== b.groupId) {
      if (a.groupId === undefined) return 1;
      if (b.groupId === undefined) return -1;
      return a.groupId < b.groupId ? -1 : 1;
    }
    return Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));
  });
  return sorted.map((r) => ({
    ...(r.groupId !== undefined ? { groupId: r.groupId } : {}),
    path: r.path,
    ...(r.snapshotIndex !== undefined ? { snapshotIndex: r.snapshotIndex } : {}),
    ...(r.lastCommitTs ? { lastCommitTs: r.lastCommitTs } : {}),
    records: r.records,
    ...(r.crc32c !== undefined ? { crc32c: r.crc32c } : {}),
  }));
}
