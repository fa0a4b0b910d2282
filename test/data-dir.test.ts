import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chooseSnapshots, dataDirInputs } from '../lib/cluster/data-dir.js';
import { DecodeError } from '../lib/errors.js';
import { hex16, writeDataDir } from './helpers/cluster.js';

// SPEC §10 --data-dir: RAFTDIR/<raftID>/group-<N>/fsm-snap/<16 hex>.fsm and
// RAFTDIR/<raftID>/fsm-snap/<16 hex>.fsm; the newest per group; decoys ignored.

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-datadir-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the highest index per group wins over older snapshots, .tmp spools and other names', async (t) => {
  const root = tmp(t);
  const chosen = writeDataDir(
    root,
    [
      { raftId: 'n1', groupId: 1, index: 0x180, bytes: Buffer.from('g1') },
      { raftId: 'n1', groupId: 2, index: 0xc0, bytes: Buffer.from('g2') },
      { raftId: 'n1', index: 0x30, bytes: Buffer.from('single') },
    ],
    Buffer.from('decoy'),
  );
  const inputs = await dataDirInputs(root);
  t.deepEqual(
    inputs.map((i) => [i.path, i.groupId, i.snapshotIndex, i.requireFooter, i.size]),
    [
      [chosen[2], undefined, 0x30n, true, 6],
      [chosen[0], 1n, 0x180n, true, 2],
      [chosen[1], 2n, 0xc0n, true, 2],
    ],
  );
});

test('the same group under two raft ids: the highest index, then the path first in byte order', (t) => {
  const f = (p: string, groupId: bigint | undefined, index: bigint) => ({ path: p, ...(groupId !== undefined ? { groupId } : {}), index, size: 1 });
  t.deepEqual(
    chooseSnapshots([f('/r/n2/group-1/fsm-snap/a', 1n, 5n), f('/r/n1/group-1/fsm-snap/a', 1n, 5n), f('/r/n1/group-1/fsm-snap/b', 1n, 4n)]).map((x) => x.path),
    ['/r/n1/group-1/fsm-snap/a'],
  );
  // Unknown groups are told apart by their directory.
  t.deepEqual(
    chooseSnapshots([f('/r/n1/fsm-snap/a', undefined, 1n), f('/r/n2/fsm-snap/a', undefined, 1n)]).map((x) => x.path),
    ['/r/n1/fsm-snap/a', '/r/n2/fsm-snap/a'],
  );
});

test('no snapshot at all is ERR_IO naming RAFTDIR; a file as RAFTDIR is a usage error', async (t) => {
  const root = tmp(t);
  fs.mkdirSync(path.join(root, 'n1', 'group-1', 'fsm-snap'), { recursive: true });
  fs.writeFileSync(path.join(root, 'n1', 'group-1', 'fsm-snap', `${hex16(5)}.fsm.tmp`), 'x');
  const err = await t.throwsAsync(dataDirInputs(root), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_IO');
  t.is(err?.context.path, root);
  const file = path.join(root, 'f');
  fs.writeFileSync(file, '');
  t.is((await t.throwsAsync(dataDirInputs(file), { instanceOf: DecodeError }))?.code, 'ERR_USAGE');
});
