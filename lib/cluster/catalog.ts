/**
 * elastickv's route catalog (SPEC §10 step 2): `!dist|route|` ‖ u64(routeID)
 * records, each a route descriptor — the key range [start, end) one Raft
 * group owns. The catalog is itself a set of MVCC records: per route key
 * the newest version counts and a tombstone removes the route.
 */
import { DecodeError } from '../errors.js';
import type { SnapshotRecord } from '../types.js';

/** The key prefix of route catalog records. */
export const CATALOG_ROUTE_PREFIX = '!dist|route|';
const B_PREFIX = Buffer.from(CATALOG_ROUTE_PREFIX, 'latin1');

/** Route states; every one but Active is a split or move in progress. */
export const ROUTE_STATES = ['active', 'write-fenced', 'migrating-source', 'migrating-target'] as const;
/** A route's state byte, by name. */
export type RouteState = (typeof ROUTE_STATES)[number];

/** One decoded route descriptor. */
export interface Route {
  routeId: bigint;
  groupId: bigint;
  state: RouteState;
  parentRouteId: bigint;
  start: Buffer;
  /** Exclusive end; undefined: +∞. */
  end: Buffer | undefined;
  /** Codec version 2 only. */
  splitAtHlc?: bigint;
}

/** Whether a key is a route catalog record's. */
export function isCatalogRouteKey(key: Buffer): boolean {
  return key.length >= B_PREFIX.length && key.compare(B_PREFIX, 0, B_PREFIX.length, 0, B_PREFIX.length) === 0;
}

/** Decodes a route descriptor value; `key` names the record in the error. */
export function decodeRoute(key: Buffer, value: Buffer): Route {
  const bad = (what: string): DecodeError => new DecodeError('ERR_CATALOG_INVALID', `route catalog record does not decode: ${what}`, { key });
  if (key.length !== B_PREFIX.length + 8) throw bad(`the key must be the prefix and an 8-byte route id, it has ${key.length - B_PREFIX.length} bytes after the prefix`);
  let pos = 0;
  const need = (n: number, field: string): void => {
    if (pos + n > value.length) throw bad(`the value ends inside ${field} (${value.length} bytes)`);
  };
  const u8 = (field: string): number => {
    need(1, field);
    return value[pos++]!;
  };
  const u64 = (field: string): bigint => {
    need(8, field);
    const v = value.readBigUInt64BE(pos);
    pos += 8;
    return v;
  };
  const bytes = (field: string): Buffer => {
    const n = u64(`the length of ${field}`);
    if (n > BigInt(value.length - pos)) throw bad(`${field} is ${n} bytes, more than the value holds`);
    const b = Buffer.from(value.subarray(pos, pos + Number(n)));
    pos += Number(n);
    return b;
  };
  const version = u8('the codec version');
  if (version !== 1 && version !== 2) throw bad(`unknown codec version ${version}`);
  const routeId = u64('the route id');
  const groupId = u64('the group id');
  const stateByte = u8('the state');
  const state = ROUTE_STATES[stateByte];
  if (state === undefined) throw bad(`unknown route state ${stateByte}`);
  const parentRouteId = u64('the parent route id');
  const start = bytes('the start key');
  const hasEnd = u8('the end marker');
  if (hasEnd > 1) throw bad(`end marker must be 0 or 1, got ${hasEnd}`);
  const end = hasEnd === 1 ? bytes('the end key') : undefined;
  const splitAtHlc = version === 2 ? u64('the split HLC') : undefined;
  if (pos !== value.length) throw bad(`${value.length - pos} bytes left over after the descriptor`);
  if (routeId !== key.readBigUInt64BE(B_PREFIX.length)) throw bad(`route id ${routeId} differs from the key's ${key.readBigUInt64BE(B_PREFIX.length)}`);
  if (routeId === 0n || groupId === 0n) throw bad('route id and group id must be non-zero');
  if (end !== undefined && Buffer.compare(start, end) >= 0) throw bad('the start key is not below the end key');
  return { routeId, groupId, state, parentRouteId, start, end, ...(splitAtHlc !== undefined ? { splitAtHlc } : {}) };
}

/** Encodes a route descriptor (codec version 2 when splitAtHlc is set, else 1): the inverse of decodeRoute. */
export function encodeRoute(r: Route): Buffer {
  const u64 = (n: bigint): Buffer => {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(n);
    return b;
  };
  const version = r.splitAtHlc !== undefined ? 2 : 1;
  const parts = [Buffer.from([version]), u64(r.routeId), u64(r.groupId), Buffer.from([ROUTE_STATES.indexOf(r.state)]), u64(r.parentRouteId), u64(BigInt(r.start.length)), r.start];
  parts.push(r.end === undefined ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), u64(BigInt(r.end.length)), r.end]));
  if (r.splitAtHlc !== undefined) parts.push(u64(r.splitAtHlc));
  return Buffer.concat(parts);
}

/** The catalog record key of a route: `!dist|route|` ‖ u64(routeID). */
export function routeRecordKey(routeId: bigint): Buffer {
  const k = Buffer.alloc(B_PREFIX.length + 8);
  B_PREFIX.copy(k);
  k.writeBigUInt64BE(routeId, B_PREFIX.length);
  return k;
}

/**
 * Collects catalog records (any order, any input) and resolves them: per
 * route key the highest commit_ts wins, a later record on a tie, and a
 * winning tombstone removes the route. Values are decoded as they arrive,
 * so a bad record fails the run even if a newer one would replace it.
 */
export class RouteCatalogBuilder {
  private readonly newest = new Map<string, { ts: bigint; value: Buffer | null; route: Route | null }>();

  add(rec: SnapshotRecord): void {
    const route = rec.tombstone || rec.value === null ? null : decodeRoute(rec.key, rec.value);
    const id = rec.key.toString('latin1');
    const seen = this.newest.get(id);
    if (seen === undefined || rec.commitTs >= seen.ts) this.newest.set(id, { ts: rec.commitTs, value: route ? rec.value : null, route });
  }

  /** Whether adding rec would change the catalog (an older version or an identical copy would not). */
  wouldChange(rec: SnapshotRecord): boolean {
    const seen = this.newest.get(rec.key.toString('latin1'));
    if (seen === undefined || rec.commitTs > seen.ts) return true;
    if (rec.commitTs < seen.ts) return false;
    const value = rec.tombstone ? null : rec.value;
    return value === null || seen.value === null ? value !== seen.value : !value.equals(seen.value);
  }

  /** The live routes, sorted by start key. */
  build(): RouteCatalog {
    const routes = [...this.newest.values()].flatMap((v) => (v.route ? [v.route] : []));
    return new RouteCatalog(routes);
  }
}

/** The resolved catalog: which group owns a key. */
export class RouteCatalog {
  readonly routes: readonly Route[];

  constructor(routes: Route[]) {
    this.routes = [...routes].sort((a, b) => Buffer.compare(a.start, b.start));
  }

  get size(): number {
    return this.routes.length;
  }

  /** The route with start ≤ key < end, if any. */
  lookup(key: Buffer): Route | undefined {
    const rs = this.routes;
    let lo = 0;
    let hi = rs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(rs[mid]!.start, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const r = rs[lo - 1];
    return r !== undefined && (r.end === undefined || Buffer.compare(key, r.end) < 0) ? r : undefined;
  }
}
