/**
 * The whole-cluster arguments of ekv-s3-decode (SPEC §10, §11): several
 * INPUTs, --group-ids, --data-dir, --from-offload [--group N]. Turns them
 * into the inputs decodeSnapshot merges, or undefined for a plain
 * one-input run (which then behaves exactly as without this file).
 */
import path from 'node:path';
import { clusterReadSize, fileInput, withGroupIds, type ClusterInput } from '../cluster/input.js';
import { parseU64Decimal } from '../core/u64.js';
import { DecodeError } from '../errors.js';
import type { S3Options } from '../s3/client.js';
import { isS3Url, parseS3Url } from '../s3/url.js';
import type { SnapshotStore } from '../store/store.js';

/** parseArgs option declarations, spread into the CLI's own. */
export const CLUSTER_OPTIONS = {
  'data-dir': { type: 'string' },
  'from-offload': { type: 'string' },
  'group-ids': { type: 'string' },
  group: { type: 'string', multiple: true },
} as const;

export interface ClusterArgs {
  inputs: string[];
  dataDir?: string;
  fromOffload?: string;
  /** Comma-separated decimal ids. */
  groupIds?: string;
  groups?: string[];
  /** How to reach S3, for --from-offload s3://. */
  s3?: S3Options;
}

const usage = (message: string): DecodeError => new DecodeError('ERR_USAGE', message);

function u64(text: string, flag: string): bigint {
  const n = parseU64Decimal(text);
  if (n === undefined) throw usage(`${flag} takes decimal group ids, not ${JSON.stringify(text)}`);
  return n;
}

/**
 * The cluster inputs the arguments name (discovery notes go to `note`), or
 * undefined when they name a single plain INPUT.
 */
export async function clusterInputs(a: ClusterArgs, snapshotIndexGiven: boolean, note: (message: string) => void): Promise<ClusterInput[] | undefined> {
  const sources = [a.inputs.length > 0, a.dataDir !== undefined, a.fromOffload !== undefined].filter(Boolean).length;
  if (sources > 1) throw usage('give INPUT files, --data-dir or --from-offload, not several of them');
  if (a.groups && a.fromOffload === undefined) throw usage('--group goes with --from-offload');
  if (a.groupIds !== undefined && a.inputs.length === 0) throw usage('--group-ids names the groups of INPUT files');
  if (a.inputs.filter((i) => i === '-').length > 1) throw usage('standard input ("-") can be given once');
  const named = a.inputs.filter((i) => i !== '-').map((i) => path.resolve(i));
  const twice = named.find((p, i) => named.indexOf(p) !== i);
  if (twice !== undefined) throw usage(`${twice} is named twice: give each group's snapshot once`);
  let inputs: ClusterInput[];
  if (a.dataDir !== undefined) {
    const { dataDirInputs } = await import('../cluster/data-dir.js');
    inputs = await dataDirInputs(a.dataDir);
    for (const i of inputs) note(`snapshot of group ${i.groupId ?? 'unknown'}: ${i.path}`);
  } else if (a.fromOffload !== undefined) {
    const { offloadInputs } = await import('../store/offload.js');
    inputs = await offloadInputs(await offloadStore(a.fromOffload, a.s3), a.groups ? { groups: a.groups.map((g) => u64(g, '--group')) } : {});
    for (const i of inputs) note(`offloaded snapshot of group ${i.groupId}, index ${i.snapshotIndex}: ${i.path}`);
  } else if (a.inputs.length > 1 || a.groupIds !== undefined) {
    const readSize = clusterReadSize(a.inputs.length);
    inputs = a.inputs.map((p) => fileInput(p, {}, readSize));
    if (a.groupIds !== undefined) inputs = withGroupIds(inputs, a.groupIds.split(',').map((g) => u64(g.trim(), '--group-ids')));
  } else {
    return undefined;
  }
  if (snapshotIndexGiven && inputs.length > 1) throw usage('--snapshot-index applies to one input only');
  return inputs;
}

/** The store --from-offload names: a bucket (the SDK is loaded only then) or a local directory. */
async function offloadStore(where: string, s3: S3Options = {}): Promise<SnapshotStore> {
  if (!isS3Url(where)) return new (await import('../store/local-store.js')).LocalStore(where);
  const { S3Store } = await import('../store/s3-store.js');
  return new S3Store(parseS3Url(where), s3);
}
