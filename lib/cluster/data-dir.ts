/**
 * Snapshot discovery in a node's Raft data directory (SPEC §10 --data-dir):
 * `RAFTDIR/<raftID>/group-<N>/fsm-snap/<16 hex>.fsm` (group N) and
 * `RAFTDIR/<raftID>/fsm-snap/<16 hex>.fsm` (group unknown). Per group the
 * highest snapshot index wins (ties: the path first in byte order); other
 * files there — `.tmp` spools, other names — are ignored. A chosen file is
 * never swapped for an older one: if it fails verification, the run fails.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DecodeError, ioError } from '../errors.js';
import { clusterReadSize, fileInput, type ClusterInput } from './input.js';

const SNAPSHOT_NAME = /^([0-9a-fA-F]{16})\.fsm$/;
const GROUP_DIR = /^group-([0-9]{1,20})$/;

/** One snapshot file found in a data directory. */
export interface FoundSnapshot {
  path: string;
  groupId?: bigint;
  index: bigint;
  size: number;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw ioError(e, dir, 'cannot list the data directory');
  }
}

/** The `<16 hex>.fsm` regular files of one fsm-snap directory. */
async function snapshotsIn(dir: string, groupId: bigint | undefined): Promise<FoundSnapshot[]> {
  const out: FoundSnapshot[] = [];
  for (const name of await entries(dir)) {
    const m = SNAPSHOT_NAME.exec(name);
    if (!m) continue;
    const p = path.join(dir, name);
    const st = await fsp.stat(p).catch(() => undefined);
    if (!st?.isFile()) continue;
    out.push({ path: p, ...(groupId !== undefined ? { groupId } : {}), index: BigInt(`0x${m[1]}`), size: st.size });
  }
  return out;
}

/** Every snapshot file under RAFTDIR, in path order. */
export async function findSnapshots(raftDir: string): Promise<FoundSnapshot[]> {
  const st = await fsp.stat(raftDir).catch((e: unknown) => {
    throw ioError(e, raftDir, 'cannot read the data directory');
  });
  if (!st.isDirectory()) throw new DecodeError('ERR_USAGE', `--data-dir is not a directory: ${raftDir}`);
  const found: FoundSnapshot[] = [];
  for (const raftId of await entries(raftDir)) {
    const node = path.join(raftDir, raftId);
    found.push(...(await snapshotsIn(path.join(node, 'fsm-snap'), undefined)));
    for (const sub of await entries(node)) {
      const m = GROUP_DIR.exec(sub);
      if (m) found.push(...(await snapshotsIn(path.join(node, sub, 'fsm-snap'), BigInt(m[1]!))));
    }
  }
  return found;
}

/**
 * Per group the newest snapshot. Snapshots of an unknown group are grouped
 * by their directory (each one node's single-group layout).
 */
export function chooseSnapshots(found: readonly FoundSnapshot[]): FoundSnapshot[] {
  const best = new Map<string, FoundSnapshot>();
  for (const f of found) {
    const id = f.groupId !== undefined ? `g${f.groupId}` : `d${path.dirname(f.path)}`;
    const cur = best.get(id);
    if (cur === undefined || f.index > cur.index || (f.index === cur.index && Buffer.compare(Buffer.from(f.path), Buffer.from(cur.path)) < 0)) best.set(id, f);
  }
  return [...best.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** The inputs `--data-dir RAFTDIR` names: the newest snapshot per group, each required to carry its CRC32C footer. */
export async function dataDirInputs(raftDir: string): Promise<ClusterInput[]> {
  const chosen = chooseSnapshots(await findSnapshots(raftDir));
  if (chosen.length === 0) throw new DecodeError('ERR_IO', 'no snapshot found: expected <raftID>/group-<N>/fsm-snap/<16 hex>.fsm or <raftID>/fsm-snap/<16 hex>.fsm', { path: raftDir });
  const readSize = clusterReadSize(chosen.length);
  return chosen.map((f) => fileInput(f.path, { ...(f.groupId !== undefined ? { groupId: f.groupId } : {}), snapshotIndex: f.index, size: f.size, requireFooter: true }, readSize));
}
