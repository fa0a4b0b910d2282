/**
 * The finalizing sink: a Writable taking one BucketCollection at a time.
 * For each bucket it plans (lib/core/plan.ts), chooses each body's source,
 * verifies it and has a Target write it, then writes the bucket's own files;
 * at the end MANIFEST.json and CHECKSUMS. What is left here is sequencing,
 * the keep-going policy and checksums: every file's SHA-256 is known as it
 * is produced, so CHECKSUMS never re-reads the tree.
 */
import { Writable } from 'node:stream';
import { DecodeError } from '../errors.js';
import { ByteArena } from '../core/arena.js';
import { digestOf } from '../core/digest.js';
import { ChecksumList } from '../core/checksums.js';
import { renderDumpManifest, renderKeymap, renderSkipped, type DumpManifestInfo, type KeymapLine, type SkippedObject } from '../core/dump-files.js';
import { etagUnverifiable } from '../core/etag.js';
import { hlcToSeconds } from '../core/hlc.js';
import { printable } from '../core/printable.js';
import { sidecarPath } from '../core/names.js';
import { bucketCollectionProblem, usage } from '../stages/record-shape.js';
import { isFailure, planBucket, planObjects, type ObjectPlan, type PlanOptions } from '../core/plan.js';
import { Breather } from '../io/breather.js';
import { PositionedReader } from '../io/positioned-reader.js';
import type { BucketCollection, SealedRuns, Span, Warning, WarningHandler } from '../types.js';
import { VERSION } from '../version.js';
import { bodySpans, chooseBody, runMd5s, streamBody, verifyBody } from './body.js';
import type { Target } from './target.js';

const DATA_MODE = 0o600;
const TOP_MODE = 0o644;

/** Options of the finalizing sink. */
export interface DumpSinkOptions extends Partial<PlanOptions> {
  /** Skip failing objects (listed in _skipped.jsonl) instead of failing (default false). */
  keepGoing?: boolean;
  onWarning?: WarningHandler;
  /**
   * MANIFEST.json fields, asked for at the end (some, like last_commit_ts,
   * are known only then). Defaults: now, source "-", this decoder, and the
   * flags above.
   */
  manifestInfo?: () => Partial<Omit<DumpManifestInfo, 'buckets'>>;
  /**
   * Where the list of checksums (one per file written) is sorted on disk
   * beyond a memory budget (the caller removes it); without it the list
   * stays in memory.
   */
  scratchDir?: string;
}

interface ResolvedOptions extends PlanOptions {
  keepGoing: boolean;
  onWarning: WarningHandler | undefined;
  manifestInfo: () => Omit<DumpManifestInfo, 'buckets'>;
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

/** What the sink wrote. */
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

type Ctx = { bucket: Buffer; object: Buffer };

/** The finalizing sink: a Writable of BucketCollections that plans, verifies and writes the dump through a Target. */
export class DumpSink extends Writable {
  readonly stats: SinkStats = { buckets: 0, objects: 0, skipped: 0, etagUnverifiable: 0, bodyBytes: 0, files: 0, bytesWritten: 0 };
  private readonly checksums: ChecksumList;
  private readonly scratchDir: string | undefined;
  /** Names of the buckets that hold a file, for MANIFEST.json: bytes in an arena and (position, length) pairs, not a Buffer each (there may be 50 000). */
  private readonly bucketNames = new ByteArena();
  private readonly bucketsWithFiles: number[] = [];
  private readonly opts: ResolvedOptions;
  /** Reads spilled bytes for hashing (and for targets that want them). */
  private readonly reader = new PositionedReader();
  /** Runs already put whole (a run file can be published once). */
  private readonly usedRuns = new Set<number>();
  private readonly breather = new Breather();

  constructor(
    private readonly target: Target,
    opts: DumpSinkOptions = {},
  ) {
    super({ objectMode: true, highWaterMark: 1 });
    this.opts = resolveOptions(opts);
    this.scratchDir = opts.scratchDir;
    this.checksums = new ChecksumList(opts.scratchDir !== undefined ? { scratchDir: opts.scratchDir } : {});
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
    this.target.close().then(
      () => cb(err),
      () => cb(err),
    );
  }

  private async finish(): Promise<void> {
    await this.file(Buffer.from('MANIFEST.json'), renderDumpManifest({ ...this.opts.manifestInfo(), buckets: this.namesOfBucketsWithFiles() }), TOP_MODE);
    // Written last, so an archive cut short has no CHECKSUMS.
    await this.checksums.finish();
    const { size, pieces } = this.checksums.pieces();
    await this.target.putFile(Buffer.from('CHECKSUMS'), size, pieces, TOP_MODE);
    // Not a line of itself, but a file of the dump: counted like the others.
    this.stats.files++;
    this.stats.bytesWritten += size;
    await this.target.finish();
    this.reader.close();
    await this.target.close();
  }

  private async writeBucket(b: BucketCollection): Promise<void> {
    const plan = planBucket(b, this.opts, this.scratchDir);
    for (const w of plan.warnings) this.warn(w);
    const skipped: SkippedObject[] = [];
    for (const f of plan.failures) this.skip(f.object, f.error, skipped);

    const prefix = Buffer.from(`s3/${plan.dir}/`, 'latin1');
    const at = (rel: Buffer | string) => Buffer.concat([prefix, typeof rel === 'string' ? Buffer.from(rel) : rel]);
    const filesBefore = this.checksums.length;
    const keymap: KeymapLine[] = [];
    for (const obj of planObjects(plan, b, this.opts)) {
      await this.breathe();
      if (isFailure(obj)) {
        this.skip(obj.object, obj.error, skipped);
        continue;
      }
      const ctx = { bucket: plan.name, object: obj.key };
      try {
        await this.writeObject(at(obj.relPath), obj, b.runs, ctx);
      } catch (e) {
        if (!(e instanceof DecodeError) || e.level !== 'object') throw e;
        // A target's refusal names no object: name it.
        this.skip(obj.key, e.context.object ? e : new DecodeError(e.code, e.detail, ctx, 'object'), skipped);
        continue;
      }
      if (obj.keymap) keymap.push({ encoded: obj.keymap.encoded, key: obj.key, kind: obj.keymap.kind });
    }
    for (const o of plan.orphans) {
      const rel = at(o.relPath);
      const sha256 = await this.putSpans(rel, o.span.length, [{ spans: [o.span] }], null, { bucket: plan.name, object: o.relPath });
      await this.record(rel, sha256, o.span.length);
    }
    if (plan.uploads) await this.file(at('_incomplete_uploads/records.jsonl'), plan.uploads, DATA_MODE);
    if (keymap.length > 0) await this.file(at('KEYMAP.jsonl'), renderKeymap(keymap), DATA_MODE);
    if (skipped.length > 0) await this.file(at('_skipped.jsonl'), this.skippedFile(plan.name, skipped), DATA_MODE);
    if (plan.bucketJson) await this.file(at('_bucket.json'), plan.bucketJson, DATA_MODE);
    await this.target.endBucket();
    this.stats.buckets++;
    if (this.checksums.length > filesBefore) this.bucketsWithFiles.push(this.bucketNames.put(plan.name), plan.name.length);
  }

  private namesOfBucketsWithFiles(): Buffer[] {
    const names: Buffer[] = [];
    for (let i = 0; i < this.bucketsWithFiles.length; i += 2) names.push(this.bucketNames.view(this.bucketsWithFiles[i]!, this.bucketsWithFiles[i + 1]!));
    return names;
  }

  /** Verifies and writes one object's body, then its sidecar. Throws an object-level DecodeError when the body fails. */
  private async writeObject(rel: Buffer, obj: ObjectPlan, runs: SealedRuns, ctx: Ctx): Promise<void> {
    const verify = this.opts.verify;
    const source = chooseBody(obj, runs, this.usedRuns);
    // The body's modification time is its object's Last-Modified, so rsync and `aws s3 sync` see real times.
    const mtime = hlcToSeconds(obj.manifest.lastModifiedHlc);
    let sha256: Buffer | undefined;
    if (source.run) {
      const err = verify ? verifyBody(obj, await runMd5s(obj, source.run, this.reader), ctx) : null;
      if (err) throw err;
      if (await this.target.putRun(rel, source.run, mtime)) {
        this.usedRuns.add(source.run.file.id);
        sha256 = source.run.hashes.sha256;
      }
    }
    // Verified from the run's hashes already when the target could not take the run whole.
    sha256 ??= await this.putSpans(rel, obj.size, obj.parts, verify && !source.run ? obj : null, ctx, mtime);
    await this.record(rel, sha256, obj.size);
    if (verify && etagUnverifiable(obj.manifest.etag, obj.parts)) this.stats.etagUnverifiable++;
    this.stats.objects++;
    this.stats.bodyBytes += obj.size;
    await this.file(sidecarPath(rel), obj.sidecar, DATA_MODE);
  }

  /**
   * Puts a body made of spans: reads and hashes its bytes once, handing them
   * to the target if it wants them; with `verify` (the object's plan) checks
   * its ETags and aborts the body when they fail. Returns its SHA-256.
   */
  private async putSpans(rel: Buffer, size: number, parts: ReadonlyArray<{ spans: Span[] }>, verify: ObjectPlan | null, ctx: Ctx, mtime?: number): Promise<Buffer> {
    const writer = await this.target.putSpans(rel, size, bodySpans(parts), mtime);
    let err: DecodeError | null = null;
    let sha256: Buffer;
    try {
      const digest = await streamBody(parts, this.reader, verify ? { md5: true, etag: verify.manifest.etag } : { md5: false }, writer.wantsBytes ? (b) => writer.write(b) : undefined);
      if (verify) err = verifyBody(verify, digest.md5s!, ctx);
      sha256 = digest.sha256;
    } catch (e) {
      await writer.abort();
      throw e;
    }
    if (err) {
      await writer.abort();
      throw err;
    }
    await writer.commit();
    return sha256;
  }

  /** An object that cannot be emitted: fails the run, or (--keep-going) is remembered for _skipped.jsonl. */
  private skip(object: Buffer, error: DecodeError, skipped: SkippedObject[]): void {
    if (!this.opts.keepGoing) throw error;
    // Code and detail only: a kept error object (with its stack) costs kilobytes per skip.
    skipped.push({ object, code: error.code, detail: error.message });
  }

  /**
   * Small objects are written with synchronous calls; every few milliseconds
   * let the event loop run, so signals and aborts are seen (and stop us).
   */
  private async breathe(): Promise<void> {
    if ((await this.breather.breathe()) && this.destroyed) throw new Error('sink destroyed');
  }

  /** _skipped.jsonl, each entry also reported as a warning. */
  private skippedFile(bucket: Buffer, skipped: SkippedObject[]): Buffer {
    const file = renderSkipped(skipped);
    this.stats.skipped += skipped.length;
    for (const s of skipped) this.warn({ event: 's3_skipped_object', bucket: printable(bucket), object: printable(s.object), reason: s.code, detail: s.detail });
    return file;
  }

  private warn(w: Warning): void {
    this.opts.onWarning?.(w);
  }

  private async file(rel: Buffer, data: Buffer, mode: number): Promise<void> {
    await this.target.putFile(rel, data.length, [data], mode);
    await this.record(rel, digestOf('sha256', data), data.length);
  }

  /** Counts a file written and lists its checksum (a promise only when the list spilled a run). */
  private record(rel: Buffer, sha256: Buffer, size: number): Promise<void> | undefined {
    this.stats.files++;
    this.stats.bytesWritten += size;
    return this.checksums.add(rel, sha256);
  }
}

/** The finalizing sink writing through `target`. */
export function createDumpSink(target: Target, opts: DumpSinkOptions = {}): DumpSink {
  return new DumpSink(target, opts);
}
