/**
 * Version resolver (SPEC §3.3): of all versions of one user key only the one
 * with the highest commit_ts counts (equal: the later record wins), and a
 * tombstone there deletes the key.
 *
 * The stage streams: it passes on every record that is at least as new as
 * anything seen for its key and drops the rest. A later, newer version of a
 * key that was already passed on therefore arrives downstream afterwards and
 * replaces it (a tombstone deletes it). In a sorted native snapshot newer
 * versions come first, so superseded payloads are dropped here and never
 * spilled.
 *
 * What it remembers. Input sorted by encoded key E = key ‖ BE(¬commit_ts)
 * (native snapshots always are, SPEC §3.2; JSONL from ekv-snapshot-jsonl
 * usually is) needs no memory per key: once the input has moved past a key,
 * that key cannot come back. Precisely: let K be a key seen with some
 * version K‖x, and E a later record whose encoded key does not start with K.
 * Sorted means E ≥ K‖x; E is no prefix of K‖x (it would sort before it) and
 * does not start with K, so E and K‖x first differ at some i < |K|, where
 * E[i] > K[i]: hence E > K‖y for every 8-byte y, and so is every record after
 * E. No later record has key K, since its encoded key would be some K‖y.
 *
 * So while the input is sorted the stage keeps only the open keys: those the
 * current encoded key starts with (a key whose versions may still come; they
 * nest, at most one per length, usually one or two), each with its newest
 * commit_ts. A record's key U is a prefix of its own E, so if U is open it is
 * the open key of length |U|: lookup is exact, and every decision is the
 * same as remembering every key. Closed keys go to a short list of recent
 * ones (recentKeys, default 256) and are forgotten when it overflows.
 *
 * Input that turns out unsorted (E below the previous record's) switches the
 * stage to remembering every key from then on, starting with the open and
 * recent ones. If none had been forgotten, it stays exact. If some had, a
 * record of a forgotten key can only sort below the last sorted record P
 * (all its encodings did, by the argument above); a key not remembered whose
 * E is at least P was never seen, so decisions about it are exact too. Only
 * a record below P of a key not remembered may be an older version of a
 * forgotten key: it is passed on (counted in `unverified`), and the manifest
 * collector, which keeps each identity's commit_ts and tombstones' marks,
 * refuses it if it is older than what it holds (lib/stages/collect.ts).
 * The output is the same as with perfect memory; only the `superseded` count
 * may miss such records. Memory therefore grows with distinct keys only for
 * unsorted input (one string and one timestamp per key), never with values,
 * and not at all for sorted input.
 */
import { PAYLOAD_RECORDS } from './queue.js';
import { writeEncodedTs } from '../core/encoded-key.js';
import { supersedes } from '../core/newest-wins.js';
import { Transform, type TransformCallback } from 'node:stream';
import type { SnapshotRecord, ValuePiece } from '../types.js';
import { snapshotRecordProblem, usage } from './record-shape.js';
import { isValuePiece, PieceGate } from './value-pieces.js';

/** What the version resolver dropped. */
export interface ResolverStats {
  /** Records that lost to a newer (or later equal) version of their key. */
  superseded: number;
  /** Keys whose newest version is a tombstone (deleted keys), however the input is ordered. */
  tombstones: number;
}

/** Options of the version resolver. */
export interface ResolverOptions {
  /** Keys remembered after sorted input has moved past them (default 256; see above). */
  recentKeys?: number;
}

/** A key whose versions may still come, the newest commit_ts seen for it, and whether that version is a tombstone. */
interface OpenKey {
  key: Buffer;
  ts: bigint;
  tomb: boolean;
}

/** Version resolver stage: passes on the newest version of each user key, drops superseded versions and tombstoned keys. */
export class VersionResolver extends Transform {
  readonly stats: ResolverStats = { superseded: 0, tombstones: 0 };
  /** Records passed on that may be older versions of a forgotten key (the collector settles them). */
  unverified = 0;
  /** The current record's encoded key, and the previous one's (while sorted). */
  private enc = Buffer.allocUnsafe(256);
  private prev = Buffer.allocUnsafe(256);
  private prevLength = -1;
  /** Open keys, shortest first; each a prefix of the previous encoded key. */
  private readonly open: OpenKey[] = [];
  /** Recently closed keys, a ring of at most recentKeys. */
  private readonly recent: OpenKey[] = [];
  private recentNext = 0;
  private readonly recentKeys: number;
  private forgotten = false;
  /** Once unsorted: every key's newest commit_ts. */
  private newest: Map<string, bigint> | null = null;
  /** Once unsorted: the keys whose newest version so far is a tombstone. */
  private readonly tombs = new Set<string>();
  /** Once unsorted, if keys had been forgotten: the last sorted encoded key (they all sort below it). */
  private bound: Buffer | null = null;
  /** A value in pieces goes where its record went. */
  private readonly gate = new PieceGate();

  constructor(opts: ResolverOptions = {}) {
    super({ objectMode: true, highWaterMark: PAYLOAD_RECORDS });
    this.recentKeys = opts.recentKeys ?? 256;
  }

  override _transform(rec: SnapshotRecord | ValuePiece, _enc: BufferEncoding, cb: TransformCallback): void {
    if (isValuePiece(rec)) return cb(null, this.gate.piece(rec));
    const bad = snapshotRecordProblem(rec);
    if (bad !== undefined) return cb(usage('version resolver', bad));
    const key = rec.key;
    const n = key.length + 8;
    if (this.enc.length < n) this.enc = Buffer.allocUnsafe(2 * n);
    key.copy(this.enc, 0);
    writeEncodedTs(this.enc, key.length, rec.commitTs);
    if (this.newest === null && this.prevLength >= 0 && this.enc.compare(this.prev, 0, this.prevLength, 0, n) < 0) this.becomeUnsorted();
    const pass = this.newest === null ? this.sortedStep(rec, n) : this.unsortedStep(rec, this.newest, n);
    this.gate.follow(pass);
    if (!pass) return cb();
    if (rec.tombstone) this.stats.tombstones++;
    cb(null, rec);
  }

  private sortedStep(rec: SnapshotRecord, n: number): boolean {
    const { open, enc } = this;
    // Close the keys this record's encoded key does not start with.
    for (let top = open.at(-1); top && !(top.key.length <= n && enc.compare(top.key, 0, top.key.length, 0, top.key.length) === 0); top = open.at(-1)) {
      open.pop();
      this.remember(top);
    }
    // The open keys are now all prefixes of enc: the one as long as rec.key, if any, is rec.key.
    const len = rec.key.length;
    let i = open.length;
    while (i > 0 && open[i - 1]!.key.length > len) i--;
    const found = i > 0 && open[i - 1]!.key.length === len ? open[i - 1]! : undefined;
    // This record is the previous one from now on (swap the buffers).
    this.enc = this.prev;
    this.prev = enc;
    this.prevLength = n;
    if (found === undefined) {
      open.splice(i, 0, { key: Buffer.from(rec.key), ts: rec.commitTs, tomb: rec.tombstone });
      return true;
    }
    // Either this record loses, or the one passed on earlier does.
    this.stats.superseded++;
    if (!supersedes(rec.commitTs, found.ts)) return false;
    // A tombstone passed on earlier lost: the key was not deleted after all.
    if (found.tomb) this.stats.tombstones--;
    rec.replaces = true;
    found.ts = rec.commitTs;
    found.tomb = rec.tombstone;
    return true;
  }

  private unsortedStep(rec: SnapshotRecord, newest: Map<string, bigint>, n: number): boolean {
    const id = rec.key.toString('latin1');
    const seen = newest.get(id);
    if (seen !== undefined) {
      this.stats.superseded++;
      if (!supersedes(rec.commitTs, seen)) return false;
      if (this.tombs.delete(id)) this.stats.tombstones--;
      rec.replaces = true;
    } else if (this.bound !== null && this.enc.compare(this.bound, 0, this.bound.length, 0, n) < 0) {
      // Perhaps a forgotten key: pass it on, the collector decides.
      this.unverified++;
    }
    if (seen !== rec.commitTs) newest.set(id, rec.commitTs);
    if (rec.tombstone) this.tombs.add(id);
    return true;
  }

  /** A key closed in sorted input: kept among the recent ones until it is forgotten. */
  private remember(k: OpenKey): void {
    if (this.recentKeys === 0) {
      this.forgotten = true;
    } else if (this.recent.length < this.recentKeys) {
      this.recent.push(k);
    } else {
      this.recent[this.recentNext] = k;
      this.recentNext = (this.recentNext + 1) % this.recentKeys;
      this.forgotten = true;
    }
  }

  /** From now on remember every key, beginning with the open and recent ones. */
  private becomeUnsorted(): void {
    const newest = new Map<string, bigint>();
    for (const k of [...this.recent, ...this.open]) {
      newest.set(k.key.toString('latin1'), k.ts);
      if (k.tomb) this.tombs.add(k.key.toString('latin1'));
    }
    this.newest = newest;
    if (this.forgotten) this.bound = Buffer.from(this.prev.subarray(0, this.prevLength));
    this.open.length = 0;
    this.recent.length = 0;
  }
}

/** The version resolver stage (SPEC §3.3): keeps the newest version of each key. */
export function createVersionResolver(opts: ResolverOptions = {}): VersionResolver {
  return new VersionResolver(opts);
}
