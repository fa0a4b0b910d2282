/**
 * Version resolver (SPEC §3.3): of all versions of one user key only the one
 * with the highest commit_ts counts (equal: the later record wins), and a
 * tombstone there deletes the key.
 *
 * The stage streams: it passes on every record that is at least as new as
 * anything seen for its key and drops the rest. A later, newer version of a
 * key that was already passed on therefore arrives downstream afterwards and
 * replaces it (a tombstone deletes it); every downstream consumer keys its
 * state by record identity and lets the later record win. Memory grows with
 * the number of distinct keys (one timestamp each), never with values. In a
 * sorted native snapshot newer versions come first, so superseded payloads
 * are dropped here and never spilled.
 */
import { PAYLOAD_RECORDS } from './queue.js';
import { Transform, type TransformCallback } from 'node:stream';
import type { SnapshotRecord } from '../types.js';

export interface ResolverStats {
  /** Records that lost to a newer (or later equal) version of their key. */
  superseded: number;
  /** Winning-so-far records that were tombstones. */
  tombstones: number;
}

export class VersionResolver extends Transform {
  readonly stats: ResolverStats = { superseded: 0, tombstones: 0 };
  private readonly newest = new Map<string, bigint>();

  constructor() {
    super({ objectMode: true, highWaterMark: PAYLOAD_RECORDS });
  }

  override _transform(rec: SnapshotRecord, _enc: BufferEncoding, cb: TransformCallback): void {
    const id = rec.key.toString('latin1');
    const seen = this.newest.get(id);
    if (seen !== undefined) {
      // Either this record loses, or the one passed on earlier does.
      this.stats.superseded++;
      if (rec.commitTs < seen) return cb();
    }
    if (seen !== rec.commitTs) this.newest.set(id, rec.commitTs);
    if (rec.tombstone) this.stats.tombstones++;
    cb(null, rec);
  }
}

export function createVersionResolver(): VersionResolver {
  return new VersionResolver();
}
