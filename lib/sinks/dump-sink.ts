/**
 * The finalizing sink: a Writable taking one BucketCollection at a time. For
 * each bucket it plans (lib/core/plan.ts), verifies and publishes every
 * object through a Target (directory or tar), writes the bucket's metadata
 * files, and at the end MANIFEST.json and CHECKSUMS. Every file's SHA-256 is
 * known as it is produced, so CHECKSUMS never re-reads the tree.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { DecodeError, type ErrorCode } from '../errors.js';
import { ChecksumList } from '../core/checksums.js';
import { encodeLine } from '../core/gojson.js';
import { renderManifest, type ManifestInfo } from '../core/manifest.js';
import { etagUnverifiable } from '../core/etag.js';
import { printable } from '../core/printable.js';
import { keymapOriginal, sidecarPath } from '../core/names.js';
import { planBucket, planObject, type BucketPlan, type ObjectPlan, type PlanOptions } from '../core/plan.js';
import type { BucketCollection, ObjectCollection, WarningHandler } from '../types.js';
import type { Target } from './target.js';
import { VERSION } from '../version.js';
import { PositionedReader } from '../io/positioned-reader.js';
import { bucketCollectionProblem, usage } from '../stages/record-shape.js';

const DATA_MODE = 0o600;
const TOP_MODE = 0o644;

export interface DumpSinkOptions extends Partial<PlanOptions> {
  /** Skip failing objects (listed in _skipped.jsonl) instead of failing (default false). */
  keepGoing?: boolean;
  onWarning?: WarningHandler;
  /**
   * MANIFEST.json fields, asked for at the end (some, like last_commit_ts,
   * are known only then). Defaults: now, source "-", this decoder, and the
   * flags above.
   */
  manifestInfo?: () => Partial<Omit<ManifestInfo, 'buckets'>>;
}

interface ResolvedOptions extends PlanOptions {
  keepGoing: boolean;
  onWarning: WarningHandler | undefined;
  manifestInfo: () => Omit<ManifestInfo, 'buckets'>;
}

function resolveOptions(o: DumpSinkOptions): ResolvedOptions {
  const flags = {
    includeOrphans: o.includeOrphans ?? false,
    includeIncompleteUploads: o.includeIncompleteUploads ?? false,
    renameCollisions: o.renameCollisions ?? false,
  };
  return {
    ...flags,
    verify: o.verify ?? true,
    keepGoing: o.keepGoing ?? false,
    onWarning: o.onWarning,
    manifestInfo: () => ({ wallTime: new Date(), source: '-', decoder: `ekv-s3-decode ${VERSION}`, ...flags, ...o.manifestInfo?.() }),
  };
}

/**
 * A skipped object as _skipped.jsonl needs it: its code and message, not the
 * error itself (whose captured stack costs kilobytes, per object, for a
 * whole bucket).
 */
export interface SkippedObject {
  object: Buffer;
  code: ErrorCode;
  detail: string;
}

const skippedObject = (object: Buffer, e: DecodeError): SkippedObject => ({ object, code: e.code, detail: e.message });

export interface SinkStats {
  buckets: number;
  objects: number;
  skipped: number;
  /** Objects written whose composite ETag cannot be recomputed (restored multipart objects, §5.6). */
  etagUnverifiable: number;
  bodyBytes: number;
  files: number;
  /** Bytes of every file written (bodies, sidecars, metadata). */
  bytesWritten: number;
}

export class DumpSink extends Writable {
  readonly stats: SinkStats = { buckets: 0, objects: 0, skipped: 0, etagUnverifiable: 0, bodyBytes: 0, files: 0, bytesWritten: 0 };
  private readonly checksums = new ChecksumList();
  private readonly bucketsWithFiles: Buffer[] = [];
  private readonly opts: ResolvedOptions;
  private lastBreath = 0;

  constructor(
    private readonly target: Target,
    opts: DumpSinkOptions,
    /** Reads orphan chunks from scratch. */
    private readonly reader: PositionedReader,
  ) {
    super({ objectMode: true, highWaterMark: 1 });
    this.opts = resolveOptions(opts);
  }

  override _write(b: BucketCollection, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const bad = bucketCollectionProblem(b);
    if (bad !== undefined) return cb(usage('dump sink', bad));
    this.writeBucket(b).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.finish().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.reader.close();
    this.target.close().then(() => cb(err), () => cb(err));
  }

  private async finish(): Promise<void> {
    const manifest = renderManifest({ ...this.opts.manifestInfo(), buckets: this.bucketsWithFiles });
    await this.file(Buffer.from('MANIFEST.json'), manifest, TOP_MODE);
    // Written last, so an archive cut short has no CHECKSUMS.
    const { size, pieces } = this.checksums.pieces();
    await this.target.fileInPieces(Buffer.from('CHECKSUMS'), size, pieces, TOP_MODE);
    await this.target.finish();
    this.reader.close();
    await this.target.close();
  }

  private async writeBucket(b: BucketCollection): Promise<void> {
    const plan = planBucket(b, this.opts);
    for (const w of plan.warnings) this.opts.onWarning?.(w);
    if (plan.failures.length > 0 && !this.opts.keepGoing) throw plan.failures[0]!.error;
    const skipped: SkippedObject[] = plan.failures.map((f) => skippedObject(f.object, f.error));

    const prefix = Buffer.from(`s3/${plan.dir}/`, 'latin1');
    const at = (rel: Buffer | string) => Buffer.concat([prefix, typeof rel === 'string' ? Buffer.from(rel) : rel]);
    const filesBefore = this.checksums.length;
    const keymap: Array<{ encoded: Buffer; original: string; kind: string }> = [];
    // Each object's view is let go once the object is out.
    const live: Array<ObjectCollection | undefined> = plan.live;
    for (let i = 0; i < live.length; i++) {
      const o = live[i]!;
      live[i] = undefined;
      await this.breathe();
      try {
        await this.writeObject(plan, o, b, at, skipped, keymap);
      } finally {
        // Done with the object: its collected metadata may go.
        o.release?.();
      }
    }
    for (const o of plan.orphans) {
      // Orphan files are single chunks: small enough to hold while writing.
      const data = Buffer.allocUnsafe(o.location.length);
      this.reader.read(o.location.segment.path, data, data.length, o.location.offset);
      await this.file(at(o.relPath), data, DATA_MODE);
    }
    if (plan.uploads) await this.file(at('_incomplete_uploads/records.jsonl'), plan.uploads, DATA_MODE);
    if (keymap.length > 0) {
      keymap.sort((x, y) => Buffer.compare(x.encoded, y.encoded));
      await this.file(at('KEYMAP.jsonl'), jsonLines(keymap.map((k) => ({ encoded: k.encoded, original: k.original, kind: k.kind }))), DATA_MODE);
    }
    if (skipped.length > 0) await this.file(at('_skipped.jsonl'), this.skippedLines(plan, skipped), DATA_MODE);
    if (plan.bucketJson) await this.file(at('_bucket.json'), plan.bucketJson, DATA_MODE);
    await this.target.endBucket();
    this.stats.buckets++;
    if (this.checksums.length > filesBefore) this.bucketsWithFiles.push(plan.name);
  }

  /** Plans, verifies and writes one live object (or adds it to skipped). */
  private async writeObject(
    plan: BucketPlan,
    o: ObjectCollection,
    b: BucketCollection,
    at: (rel: Buffer) => Buffer,
    skipped: SkippedObject[],
    keymap: Array<{ encoded: Buffer; original: string; kind: string }>,
  ): Promise<void> {
    let obj: ObjectPlan;
    try {
      obj = planObject(plan, o, b, this.opts);
    } catch (e) {
      if (!(e instanceof DecodeError) || e.level !== 'object' || !this.opts.keepGoing) throw e;
      skipped.push(skippedObject(o.object, e));
      return;
    }
    const rel = at(obj.relPath);
    const result = await this.target.body(rel, obj, this.opts.verify, { bucket: plan.name, object: obj.key });
    if (result instanceof DecodeError) {
      if (!this.opts.keepGoing) throw result;
      skipped.push(skippedObject(obj.key, result));
      return;
    }
    this.record(rel, result, obj.size);
    this.stats.objects++;
    if (this.opts.verify && etagUnverifiable(obj.manifest.etag, obj.parts)) this.stats.etagUnverifiable++;
    this.stats.bodyBytes += obj.size;
    await this.file(sidecarPath(rel), obj.sidecar, DATA_MODE);
    if (obj.keymap) keymap.push({ encoded: obj.keymap.encoded, original: keymapOriginal(obj.key), kind: obj.keymap.kind });
  }

  /**
   * Small objects are written with synchronous calls; every few milliseconds
   * let the event loop run, so signals and aborts are seen (and stop us).
   */
  private async breathe(): Promise<void> {
    const now = performance.now();
    if (now - this.lastBreath < 10) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastBreath = performance.now();
    if (this.destroyed) throw new Error('sink destroyed');
  }

  /** _skipped.jsonl lines (sorted by object bytes), each also reported as a warning. */
  private skippedLines(plan: BucketPlan, skipped: SkippedObject[]): Buffer {
    skipped.sort((x, y) => Buffer.compare(x.object, y.object));
    this.stats.skipped += skipped.length;
    return jsonLines(
      skipped.map((s) => {
        this.opts.onWarning?.({ event: 's3_skipped_object', bucket: printable(plan.name), object: printable(s.object), reason: s.code, detail: s.detail });
        return { object: keymapOriginal(s.object), reason: s.code, detail: s.detail };
      }),
    );
  }

  private async file(rel: Buffer, data: Buffer, mode: number): Promise<void> {
    await this.target.file(rel, data, mode);
    this.record(rel, createHash('sha256').update(data).digest(), data.length);
  }

  private record(rel: Buffer, sha256: Buffer, size: number): void {
    this.checksums.add(rel, sha256);
    this.stats.files++;
    this.stats.bytesWritten += size;
  }
}

function jsonLines(values: Array<Record<string, string | Buffer>>): Buffer {
  return Buffer.from(values.map((v) => encodeLine(v, { escapeHtml: false })).join(''));
}
