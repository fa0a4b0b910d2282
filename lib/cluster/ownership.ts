/**
 * Route-catalog ownership (SPEC §10 step 2): with several inputs whose
 * group ids are known and a route catalog among their records, an S3 record
 * is kept only from the group that owns its route key. Copies left in other
 * groups (a route moved or split, the old group not yet cleaned up) are
 * dropped here — before version resolution, so a stale copy can never win
 * — counted, and reported once per bucket and group.
 *
 * The catalog (`!dist|...`) sorts before every S3 key (`!s3...`), so in a
 * merged sorted stream it is complete when the first S3 record arrives.
 * Concatenated (JSON-lines) inputs must keep that order too: a catalog
 * record after the first S3 record fails the run instead of deciding
 * ownership on half a catalog.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { DecodeError } from '../errors.js';
import { CHUNKBLOB_PREFIX } from '../core/keys.js';
import { printable } from '../core/printable.js';
import { PAYLOAD_RECORDS } from '../stages/queue.js';
import type { SnapshotRecord, ValuePiece, WarningHandler } from '../types.js';
import { isValuePiece, PieceGate } from '../stages/value-pieces.js';
import { isCatalogRouteKey, RouteCatalogBuilder, type RouteCatalog } from './catalog.js';
import { routeOf } from './route-key.js';

/** Options of createOwnershipFilter(). */
export interface OwnershipOptions {
  /** Group id per input index (undefined: unknown). */
  groupIds: ReadonlyArray<bigint | undefined>;
  /** Input paths, for messages. */
  paths: readonly string[];
  onWarning?: WarningHandler;
}

/** What the ownership filter did. */
export interface OwnershipStats {
  /** Records dropped as copies in a non-owning group. */
  staleCopies: number;
  /** Live routes in the catalog (0: none, or not consulted). */
  routes: number;
}

const B_S3 = Buffer.from('!s3', 'latin1');
const B_CHUNKBLOB = Buffer.from(CHUNKBLOB_PREFIX, 'latin1');
const startsWith = (key: Buffer, p: Buffer): boolean => key.length >= p.length && key.compare(p, 0, p.length, 0, p.length) === 0;

/** Drops S3 records held by a group that does not own their route key (SPEC §10 step 2). */
export class OwnershipFilter extends Transform {
  readonly stats: OwnershipStats = { staleCopies: 0, routes: 0 };
  /** Undefined until the first S3 record; then the catalog, or null when ownership cannot be decided. */
  private catalog: RouteCatalog | null | undefined;
  private readonly builder = new RouteCatalogBuilder();
  private readonly opts: OwnershipOptions;
  /** Dropped copies per bucket (printable) and group. */
  private readonly stale = new Map<string, { bucket: string; group: bigint; records: number }>();
  /** A value in pieces goes where its record went. */
  private readonly gate = new PieceGate();

  constructor(opts: OwnershipOptions) {
    super({ objectMode: true, highWaterMark: PAYLOAD_RECORDS });
    this.opts = opts;
  }

  override _transform(rec: SnapshotRecord | ValuePiece, _enc: BufferEncoding, cb: TransformCallback): void {
    if (isValuePiece(rec)) return cb(null, this.gate.piece(rec));
    this.gate.follow(false);
    try {
      if (isCatalogRouteKey(rec.key)) {
        if (rec.valueLength !== undefined) {
          throw new DecodeError('ERR_CATALOG_INVALID', `a route catalog record of ${rec.valueLength} bytes: far larger than any route`, { key: rec.key, ...rec.where, path: this.opts.paths[rec.input ?? 0] ?? '-' });
        }
        if (this.catalog !== undefined && this.builder.wouldChange(rec)) {
          throw new DecodeError(
            'ERR_CATALOG_INVALID',
            'a route catalog record comes after S3 records: ownership was already decided without it (give the input that holds the route catalog first)',
            { key: rec.key, ...rec.where, path: this.opts.paths[rec.input ?? 0] ?? '-' },
          );
        }
        if (this.catalog === undefined) this.builder.add(rec);
      } else if (startsWith(rec.key, B_S3)) {
        if (this.catalog === undefined) this.seal();
        if (this.catalog && !this.owned(rec)) return cb();
      }
    } catch (err) {
      return cb(err as Error);
    }
    this.gate.follow(true);
    cb(null, rec);
  }

  override _flush(cb: TransformCallback): void {
    if (this.catalog === undefined) this.seal();
    for (const s of this.stale.values()) this.opts.onWarning?.({ event: 's3_stale_group_copy', bucket: s.bucket, group: s.group, records: s.records });
    cb();
  }

  /** Whether rec's group owns its route key (or no route covers it). Counts the copies it drops. */
  private owned(rec: SnapshotRecord): boolean {
    // Content-addressed and verified: a chunkblob from any group may serve any chunkref.
    if (startsWith(rec.key, B_CHUNKBLOB)) return true;
    const route = routeOf(rec.key);
    const owner = this.catalog!.lookup(route.routeKey);
    const group = this.opts.groupIds[rec.input ?? 0]!;
    if (owner === undefined || owner.groupId === group) return true;
    this.stats.staleCopies++;
    const bucket = route.bucket ? printable(route.bucket) : '';
    const id = `${group} ${bucket}`;
    const s = this.stale.get(id);
    if (s) s.records++;
    else this.stale.set(id, { bucket, group, records: 1 });
    return false;
  }

  /** The catalog is complete: decide whether ownership can be used. */
  private seal(): void {
    const catalog = this.builder.build();
    const unknown = this.opts.groupIds.findIndex((g) => g === undefined);
    let reason: string | undefined;
    if (unknown >= 0) reason = `the group id of ${this.opts.paths[unknown]} is unknown (name it in a group-<N> directory or give --group-ids)`;
    else if (catalog.size === 0) reason = 'no route catalog (!dist|route| records) in the inputs';
    if (reason !== undefined) {
      this.catalog = null;
      this.opts.onWarning?.({ event: 's3_catalog_unavailable', reason });
      return;
    }
    this.catalog = catalog;
    this.stats.routes = catalog.size;
    const moving = catalog.routes.filter((r) => r.state !== 'active');
    if (moving.length > 0) {
      const first = moving[0]!;
      this.opts.onWarning?.({ event: 'catalog_route_not_active', routes: moving.length, route_id: first.routeId, state: first.state, group: first.groupId });
    }
  }
}

/** The ownership stage for a merged stream whose records carry their input index. */
export function createOwnershipFilter(opts: OwnershipOptions): OwnershipFilter {
  return new OwnershipFilter(opts);
}
