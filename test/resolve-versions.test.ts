import test from 'ava';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createVersionResolver, type ResolverStats, type VersionResolver } from '../lib/stages/resolve-versions.js';
import { testEncodedKey } from './helpers/fsm.js';
import type { SnapshotRecord } from '../lib/types.js';

// SPEC §3.3: for every user key only the version with the highest commit_ts
// counts (equal commit_ts: the later record in the input wins); a tombstone
// there means the key does not exist. Records without commit_ts have 0.
//
// The stage streams (see the header of lib/stages/resolve-versions.ts): it
// passes on every record at least as new as anything seen so far for its
// key and drops the rest. A newer version arriving after an older one was
// passed on is therefore passed on too, and the downstream contract is that
// the later record for a key replaces the earlier one (a tombstone deletes
// it). So "the winner" is always the LAST record emitted for a key, and
// nothing older than it is emitted after it. The tests assert on the
// emitted sequence, identified by each record's value tag.

function rec(key: string | Buffer, commitTs: bigint, tag: string, tombstone = false): SnapshotRecord {
  return {
    key: typeof key === 'string' ? Buffer.from(key, 'latin1') : key,
    value: tombstone ? null : Buffer.from(tag),
    commitTs,
    tombstone,
    where: { line: 0 },
  };
}

const tagOf = (r: SnapshotRecord, input: SnapshotRecord[]): string => {
  const i = input.indexOf(r);
  return i === -1 ? '?' : (input[i]!.value?.toString() ?? `tomb${i}`);
};

async function resolve(input: SnapshotRecord[]): Promise<{ out: string[]; stats: ResolverStats; same: boolean }> {
  const resolver = createVersionResolver();
  const got: SnapshotRecord[] = [];
  await pipeline(
    Readable.from(input),
    resolver,
    new Writable({
      objectMode: true,
      write(r: SnapshotRecord, _e, cb) {
        got.push(r);
        cb();
      },
    }),
  );
  // Records are passed on as they are (same objects, not copies).
  const same = got.every((r) => input.includes(r));
  return { out: got.map((r) => tagOf(r, input)), stats: { ...resolver.stats }, same };
}

test('a single version of a key is passed on unchanged', async (t) => {
  const r = await resolve([rec('K', 7n, 'a')]);
  t.deepEqual(r.out, ['a']);
  t.true(r.same);
  t.deepEqual(r.stats, { superseded: 0, tombstones: 0 });
});

test('highest commit_ts wins: newest first (native order) → older versions are dropped, never emitted', async (t) => {
  const r = await resolve([rec('K', 5n, 'v5'), rec('K', 3n, 'v3'), rec('K', 1n, 'v1')]);
  t.deepEqual(r.out, ['v5']);
  t.deepEqual(r.stats, { superseded: 2, tombstones: 0 });
});

test('highest commit_ts wins: oldest first → each newer version is passed on after it, and downstream replaces (last emitted = winner)', async (t) => {
  const r = await resolve([rec('K', 1n, 'v1'), rec('K', 3n, 'v3'), rec('K', 5n, 'v5')]);
  t.deepEqual(r.out, ['v1', 'v3', 'v5']);
  t.deepEqual(r.stats, { superseded: 2, tombstones: 0 });
});

test('highest commit_ts wins: shuffled → versions older than the newest seen so far are dropped; last emitted is the highest', async (t) => {
  const r = await resolve([rec('K', 3n, 'v3'), rec('K', 1n, 'v1'), rec('K', 5n, 'v5'), rec('K', 4n, 'v4'), rec('K', 2n, 'v2')]);
  t.deepEqual(r.out, ['v3', 'v5']);
  t.deepEqual(r.stats, { superseded: 4, tombstones: 0 });
});

test('commit_ts compares as uint64 (values above 2^53)', async (t) => {
  const r = await resolve([
    rec('K', 18446744073709551615n, 'max'),
    rec('K', 18446744073709551614n, 'max-1'),
    rec('K', 9007199254740993n, '2^53+1'),
  ]);
  t.deepEqual(r.out, ['max']);
  const r2 = await resolve([rec('K', 9007199254740992n, '2^53'), rec('K', 9007199254740993n, '2^53+1')]);
  t.deepEqual(r2.out, ['2^53', '2^53+1']);
});

test('equal commit_ts → the later record wins: it is passed on after the earlier one, which downstream replaces', async (t) => {
  const r = await resolve([rec('K', 5n, 'first'), rec('K', 5n, 'second'), rec('K', 5n, 'third')]);
  t.deepEqual(r.out, ['first', 'second', 'third']);
  t.deepEqual(r.stats, { superseded: 2, tombstones: 0 });
});

test('equal commit_ts → later wins, and an older version arriving afterwards is still dropped', async (t) => {
  const r = await resolve([rec('K', 5n, 'first'), rec('K', 5n, 'second'), rec('K', 4n, 'older')]);
  t.deepEqual(r.out, ['first', 'second']);
  t.deepEqual(r.stats, { superseded: 2, tombstones: 0 });
});

test('records without commit_ts (0): the later record wins', async (t) => {
  const r = await resolve([rec('K', 0n, 'a'), rec('K', 0n, 'b')]);
  t.deepEqual(r.out, ['a', 'b']);
  const r2 = await resolve([rec('K', 1n, 'ts1'), rec('K', 0n, 'ts0')]);
  t.deepEqual(r2.out, ['ts1']);
});

test('a tombstone as the newest version is passed on (downstream deletes) and blocks older versions arriving later', async (t) => {
  const r = await resolve([rec('K', 9n, 'x', true), rec('K', 5n, 'v5'), rec('K', 8n, 'v8')]);
  t.deepEqual(r.out, ['tomb0']);
  t.deepEqual(r.stats, { superseded: 2, tombstones: 1 });
});

test('a tombstone newer than a passed-on version is passed on after it (downstream deletes the key)', async (t) => {
  const r = await resolve([rec('K', 5n, 'v5'), rec('K', 9n, 'x', true), rec('K', 7n, 'v7')]);
  t.deepEqual(r.out, ['v5', 'tomb1']);
  t.deepEqual(r.stats, { superseded: 2, tombstones: 1 });
});

test('a tombstone older than the newest version is dropped', async (t) => {
  const r = await resolve([rec('K', 5n, 'v5'), rec('K', 3n, 'x', true)]);
  t.deepEqual(r.out, ['v5']);
  t.deepEqual(r.stats, { superseded: 1, tombstones: 0 });
});

test('a version newer than a tombstone is passed on after it (the key exists again downstream)', async (t) => {
  const r = await resolve([rec('K', 3n, 'x', true), rec('K', 5n, 'v5')]);
  t.deepEqual(r.out, ['tomb0', 'v5']);
  // The key exists in the end: no deleted key, as when the versions come newest first.
  t.deepEqual(r.stats, { superseded: 1, tombstones: 0 });
});

test('equal commit_ts between a value and a tombstone: the later record wins', async (t) => {
  const a = await resolve([rec('K', 5n, 'v5'), rec('K', 5n, 'x', true)]);
  t.deepEqual(a.out, ['v5', 'tomb1']);
  const b = await resolve([rec('K', 5n, 'x', true), rec('K', 5n, 'v5')]);
  t.deepEqual(b.out, ['tomb0', 'v5']);
});

test('non-adjacent versions: K, K+suffix, K interleaved are resolved per exact key', async (t) => {
  const r = await resolve([
    rec('K', 1n, 'K@1'),
    rec('Kx', 9n, 'Kx@9'),
    rec('K', 2n, 'K@2'), // newer than K@1: passed on, replaces it downstream
    rec('K\0', 4n, 'K0@4'), // another key
    rec('Kx', 3n, 'Kx@3'), // older than Kx@9: dropped
    rec('K', 0n, 'K@0'), // older than K@2: dropped
    rec('', 1n, 'empty@1'), // the empty key is a key too
    rec('K\0', 4n, 'K0@4b'), // equal: later wins
    rec('', 0n, 'empty@0'),
  ]);
  t.deepEqual(r.out, ['K@1', 'Kx@9', 'K@2', 'K0@4', 'empty@1', 'K0@4b']);
  t.deepEqual(r.stats, { superseded: 5, tombstones: 0 });
});

test('keys are compared as raw bytes: keys that are the same text after a lossy UTF-8 decode stay distinct', async (t) => {
  // 0x80 and 0x81 are both invalid UTF-8 (each would decode to U+FFFD);
  // 0xff and c3 bf ("ÿ" in UTF-8) differ as bytes.
  const r = await resolve([
    rec(Buffer.from([0x80]), 5n, 'a'),
    rec(Buffer.from([0x81]), 1n, 'b'),
    rec(Buffer.from([0xff]), 5n, 'c'),
    rec(Buffer.from([0xc3, 0xbf]), 1n, 'd'),
  ]);
  t.deepEqual(r.out, ['a', 'b', 'c', 'd']);
  t.deepEqual(r.stats, { superseded: 0, tombstones: 0 });
});

test('stats: superseded counts every record that lost (N versions of a key → N−1), tombstones counts keys whose newest version is a tombstone', async (t) => {
  const r = await resolve([
    rec('a', 1n, 'a1'),
    rec('a', 2n, 'x', true), // passed on: a deleted; a1 superseded
    rec('a', 1n, 'a1b'), // dropped
    rec('b', 5n, 'x', true), // passed on, for now b is deleted
    rec('b', 6n, 'b6'), // passed on; the b tombstone superseded: b exists
    rec('c', 3n, 'x', true), // passed on: c deleted
    rec('c', 2n, 'x', true), // dropped (a tombstone that lost is not counted)
    rec('d', 1n, 'd1'), // alone
  ]);
  t.deepEqual(r.out, ['a1', 'tomb1', 'tomb3', 'b6', 'tomb5', 'd1']);
  t.deepEqual(r.stats, { superseded: 4, tombstones: 2 });
});

test('many keys, many versions in random order: the last emitted version of each key is its winner', async (t) => {
  // Deterministic pseudo-random input; the expected winner is computed by a
  // plain reading of the rule: max commit_ts, ties → the later record.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const input: SnapshotRecord[] = [];
  for (let i = 0; i < 2000; i++) input.push(rec(`k${rnd(50)}`, BigInt(rnd(20)), `r${i}`, rnd(5) === 0));
  const winner = new Map<string, SnapshotRecord>();
  for (const r of input) {
    const k = r.key.toString('latin1');
    const w = winner.get(k);
    if (!w || r.commitTs >= w.commitTs) winner.set(k, r);
  }
  const resolver = createVersionResolver();
  const got: SnapshotRecord[] = [];
  await pipeline(Readable.from(input), resolver, new Writable({ objectMode: true, write: (r: SnapshotRecord, _e, cb) => (got.push(r), cb()) }));
  const last = new Map<string, SnapshotRecord>();
  const newestEmitted = new Map<string, bigint>();
  for (const r of got) {
    const k = r.key.toString('latin1');
    // Nothing older than a record already emitted for the key is emitted after it.
    const prev = newestEmitted.get(k);
    t.true(prev === undefined || r.commitTs >= prev);
    newestEmitted.set(k, r.commitTs);
    last.set(k, r);
  }
  t.is(last.size, winner.size);
  for (const [k, w] of winner) t.is(last.get(k), w, k);
  t.is(resolver.stats.superseded, input.length - winner.size);
  // Deleted keys, the same count a sorted (newest-first) reading of this input gives.
  t.is(resolver.stats.tombstones, [...winner.values()].filter((r) => r.tombstone).length);
});

// ------------------------------------------------ memory: sorted input

/** Records in encoded-key order (key ‖ BE(¬commit_ts)), as native snapshots are. */
function sortedByEncodedKey(input: SnapshotRecord[]): SnapshotRecord[] {
  return [...input].sort((a, b) => Buffer.compare(testEncodedKey(a.key, a.commitTs), testEncodedKey(b.key, b.commitTs)));
}

/** Emits records through a resolver; returns them with the resolver. */
async function run(input: SnapshotRecord[], opts: { recentKeys?: number } = {}): Promise<{ got: SnapshotRecord[]; resolver: VersionResolver }> {
  const resolver = createVersionResolver(opts);
  const got: SnapshotRecord[] = [];
  await pipeline(Readable.from(input), resolver, new Writable({ objectMode: true, write: (r: SnapshotRecord, _e, cb) => (got.push(r), cb()) }));
  return { got, resolver };
}

/** The winner of every key by a plain reading of the rule: max commit_ts, ties → the later record. */
function winners(input: SnapshotRecord[]): Map<string, SnapshotRecord> {
  const w = new Map<string, SnapshotRecord>();
  for (const r of input) {
    const k = r.key.toString('latin1');
    const prev = w.get(k);
    if (!prev || r.commitTs >= prev.commitTs) w.set(k, r);
  }
  return w;
}

/** Keys that are prefixes of one another, with 0x00 and 0xff bytes: versions of one key are rarely adjacent once sorted. */
function trickyInput(n: number, seed: number): SnapshotRecord[] {
  const rnd = (m: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % m;
  };
  const alphabet = [0x00, 0x01, 0x41, 0xfe, 0xff];
  const keys: Buffer[] = [];
  for (let i = 0; i < 60; i++) keys.push(Buffer.from(Array.from({ length: rnd(5) }, () => alphabet[rnd(alphabet.length)]!)));
  const tsChoices = [0n, 1n, 2n, 255n, 256n, 65535n, 1n << 56n, (1n << 64n) - 2n, (1n << 64n) - 1n];
  const input: SnapshotRecord[] = [];
  for (let i = 0; i < n; i++) input.push(rec(keys[rnd(keys.length)]!, tsChoices[rnd(tsChoices.length)]!, `r${i}`, rnd(6) === 0));
  return input;
}

test('sorted input: keys are forgotten once passed (no map), and every decision is exact, prefix keys included', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const input = sortedByEncodedKey(trickyInput(1500, seed));
    const { got, resolver } = await run(input, { recentKeys: 0 });
    t.is((resolver as unknown as { newest: unknown }).newest, null, 'never switched to remembering every key');
    t.is(resolver.unverified, 0);
    // Exactly the winners, and in sorted input each key's winner is its first record or a later equal one.
    const last = new Map<string, SnapshotRecord>();
    for (const r of got) last.set(r.key.toString('latin1'), r);
    const w = winners(input);
    t.is(last.size, w.size);
    for (const [k, r] of w) t.is(last.get(k), r);
    t.is(resolver.stats.superseded, input.length - w.size);
    t.is(resolver.stats.tombstones, [...w.values()].filter((r) => r.tombstone).length);
    // Nothing older than what was emitted for a key is emitted after it.
    const newest = new Map<string, bigint>();
    for (const r of got) {
      const k = r.key.toString('latin1');
      t.true((newest.get(k) ?? -1n) <= r.commitTs);
      newest.set(k, r.commitTs);
    }
  }
});

test('sorted input: the resolver keeps no more than the open keys and the recent ones', async (t) => {
  const input: SnapshotRecord[] = [];
  for (let i = 0; i < 5000; i++) input.push(rec(`key-${String(i).padStart(6, '0')}`, 7n, `v${i}`));
  const { got, resolver } = await run(input);
  t.is(got.length, 5000);
  const state = resolver as unknown as { open: unknown[]; recent: unknown[]; newest: unknown };
  t.true(state.open.length <= 1);
  t.true(state.recent.length <= 256);
  t.is(state.newest, null);
});

test('unsorted input after keys were forgotten: possibly forgotten keys are passed on (unverified), nothing newest is dropped', async (t) => {
  for (const seed of [7, 8, 9]) {
    const all = trickyInput(1500, seed);
    // A sorted stretch (keys get forgotten), then the rest in input order.
    const input = [...sortedByEncodedKey(all.slice(0, 1000)), ...all.slice(1000)];
    const { got, resolver } = await run(input, { recentKeys: 0 });
    t.not((resolver as unknown as { newest: unknown }).newest, null);
    t.true(resolver.unverified > 0);
    // Every winner is emitted, and is the last record emitted among those at
    // least as new (downstream keeps the newest version per key).
    const w = winners(input);
    const emitted = new Set(got);
    for (const [k, r] of w) {
      t.true(emitted.has(r), `winner of ${JSON.stringify(k)} emitted`);
      const after = got.slice(got.indexOf(r) + 1).filter((x) => x.key.toString('latin1') === k);
      t.true(after.every((x) => x.commitTs < r.commitTs));
    }
    // A record is dropped only when an earlier record of its key was newer.
    const seen = new Map<string, bigint>();
    for (const r of input) {
      const k = r.key.toString('latin1');
      if (!emitted.has(r)) t.true((seen.get(k) ?? -1n) > r.commitTs);
      if ((seen.get(k) ?? -1n) < r.commitTs) seen.set(k, r.commitTs);
    }
  }
});

test('unsorted input before anything was forgotten: exact, as if every key were remembered', async (t) => {
  const all = trickyInput(800, 11);
  const input = [...sortedByEncodedKey(all.slice(0, 100)), ...all.slice(100)];
  const { got, resolver } = await run(input, { recentKeys: 1000 });
  t.is(resolver.unverified, 0);
  const newest = new Map<string, bigint>();
  for (const r of got) {
    const k = r.key.toString('latin1');
    t.true((newest.get(k) ?? -1n) <= r.commitTs);
    newest.set(k, r.commitTs);
  }
  t.is(resolver.stats.superseded, input.length - winners(input).size);
});
