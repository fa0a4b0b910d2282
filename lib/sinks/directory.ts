/**
 * Finalizing directory sink: takes one BucketCollection at a time, plans it
 * (lib/core/plan.ts) and writes the bucket's files under `<root>/s3/<dir>/`;
 * at the end writes MANIFEST.json and CHECKSUMS. Bodies are assembled in a
 * private tmp directory and renamed into place, or are a whole spilled run
 * renamed directly. Every file's SHA-256 is known as it is written, so
 * CHECKSUMS never re-reads the tree.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { DecodeError, ioError } from '../errors.js';
import { printable } from '../core/printable.js';
import { renderChecksums, type ChecksumEntry } from '../core/checksums.js';
import { encodeLine } from '../core/gojson.js';
import { renderManifest, type ManifestInfo } from '../core/manifest.js';
import { planBucket, type BucketPlan, type ObjectPlan, type PlanOptions } from '../core/plan.js';
import type { BucketCollection, WarningHandler } from '../types.js';
import { copyBody, SegmentReader, verifyRunHashes } from './body.js';

const SIDECAR_SUFFIX = '.elastickv-meta.json';

export interface DirectorySinkOptions extends PlanOptions {
  /** The dump root (normally the staging directory). */
  root: string;
  /** A private directory on the same filesystem for body assembly. */
  tmpDir: string;
  keepGoing: boolean;
  onWarning?: WarningHandler;
  /** Called at the end for the MANIFEST.json fields known only then. */
  manifestInfo: () => Omit<ManifestInfo, 'buckets'>;
}

export interface SinkStats {
  buckets: number;
  objects: number;
  skipped: number;
  bodyBytes: number;
  filesWritten: number;
  bytesWritten: number;
}

export class DirectorySink extends Writable {
  readonly stats: SinkStats = { buckets: 0, objects: 0, skipped: 0, bodyBytes: 0, filesWritten: 0, bytesWritten: 0 };
  private readonly opts: DirectorySinkOptions;
  private readonly checksums: ChecksumEntry[] = [];
  private readonly bucketsWithFiles: Buffer[] = [];
  private readonly madeDirs = new Set<string>();
  private readonly reader = new SegmentReader();
  private tmpCounter = 0;
  private readonly rootPrefix: Buffer;

  constructor(opts: DirectorySinkOptions) {
    super({ objectMode: true, highWaterMark: 1 });
    this.opts = opts;
    this.rootPrefix = Buffer.from(opts.root.endsWith('/') ? opts.root : `${opts.root}/`);
  }

  override _write(b: BucketCollection, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writeBucket(b).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.finish().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.reader.close().then(() => cb(err), () => cb(err));
  }

  private async finish(): Promise<void> {
    await this.reader.close();
    const manifest = renderManifest({ ...this.opts.manifestInfo(), buckets: this.bucketsWithFiles });
    await this.writeFile(Buffer.from('MANIFEST.json'), manifest, 0o644);
    const checksums = renderChecksums(this.checksums);
    await this.createFile(this.abs(Buffer.from('CHECKSUMS')), checksums, 0o644);
  }

  private async writeBucket(b: BucketCollection): Promise<void> {
    const plan = planBucket(b, this.opts);
    for (const w of plan.warnings) this.opts.onWarning?.(w);
    const skipped = [...plan.failures];
    if (skipped.length > 0 && !this.opts.keepGoing) throw skipped[0]!.error;

    const prefix = Buffer.from(`s3/${plan.dir}/`, 'latin1');
    const files = this.checksums.length;
    const keymap: Array<{ encoded: Buffer; original: string; kind: string }> = [];
    for (const obj of plan.objects) {
      const err = await this.writeObject(plan, prefix, obj);
      if (err) {
        if (!this.opts.keepGoing) throw err;
        skipped.push({ object: obj.key, error: err });
        continue;
      }
      if (obj.keymap) keymap.push({ encoded: obj.keymap.encoded, original: obj.key.toString('base64url'), kind: obj.keymap.kind });
    }
    for (const o of plan.orphans) await this.writeCopy(Buffer.concat([prefix, o.relPath]), o.location);
    if (plan.uploads) await this.writeFile(Buffer.concat([prefix, Buffer.from('_incomplete_uploads/records.jsonl')]), plan.uploads);
    if (keymap.length > 0) {
      keymap.sort((x, y) => Buffer.compare(x.encoded, y.encoded));
      const lines = keymap.map((k) => encodeLine({ encoded: k.encoded, original: k.original, kind: k.kind }, { escapeHtml: false }));
      await this.writeFile(Buffer.concat([prefix, Buffer.from('KEYMAP.jsonl')]), Buffer.from(lines.join('')));
    }
    if (skipped.length > 0) await this.writeSkipped(plan, prefix, skipped);
    if (plan.bucketJson) await this.writeFile(Buffer.concat([prefix, Buffer.from('_bucket.json')]), plan.bucketJson);
    this.stats.buckets++;
    if (this.checksums.length > files) this.bucketsWithFiles.push(plan.name);
  }

  private async writeSkipped(plan: BucketPlan, prefix: Buffer, skipped: BucketPlan['failures']): Promise<void> {
    skipped.sort((x, y) => Buffer.compare(x.object, y.object));
    const lines = skipped.map((s) => {
      this.opts.onWarning?.({ event: 's3_skipped_object', bucket: plan.name.toString('utf8'), object: s.object.toString('utf8'), reason: s.error.code, detail: s.error.message });
      return encodeLine({ object: s.object.toString('base64url'), reason: s.error.code, detail: s.error.message }, { escapeHtml: false });
    });
    this.stats.skipped += skipped.length;
    await this.writeFile(Buffer.concat([prefix, Buffer.from('_skipped.jsonl')]), Buffer.from(lines.join('')));
  }

  /** Writes one object's body and sidecar; returns its verification error instead, if any. */
  private async writeObject(plan: BucketPlan, prefix: Buffer, obj: ObjectPlan): Promise<DecodeError | null> {
    const ctx = { bucket: plan.name, object: obj.key };
    const rel = Buffer.concat([prefix, obj.relPath]);
    const dest = this.abs(rel);
    await this.ensureParent(rel);
    let sha256: Buffer;
    const run = obj.run;
    if (run && !run.consumed) {
      const err = this.opts.verify ? verifyRunHashes(obj, ctx) : null;
      if (err) return err;
      await publish(run.path, dest);
      run.consumed = true;
      sha256 = run.hashes!.sha256;
    } else {
      const tmp = path.join(this.opts.tmpDir, `body-${this.tmpCounter++}`);
      const result = await copyBody(obj, tmp, this.reader, this.opts.verify, ctx);
      if (result instanceof DecodeError) return result;
      await publish(tmp, dest);
      sha256 = result.sha256;
    }
    this.record(rel, sha256, obj.size);
    this.stats.objects++;
    this.stats.bodyBytes += obj.size;
    await this.writeFile(Buffer.concat([rel, Buffer.from(SIDECAR_SUFFIX)]), obj.sidecar);
    return null;
  }

  /** Copies one spilled range (an orphan chunk) to its own file. */
  private async writeCopy(rel: Buffer, loc: { segment: { path: string }; offset: number; length: number }): Promise<void> {
    const buf = Buffer.allocUnsafe(loc.length);
    await this.reader.read(loc.segment.path, buf, loc.length, loc.offset);
    await this.writeFile(rel, buf);
  }

  private async writeFile(rel: Buffer, data: Buffer, mode = 0o600): Promise<void> {
    await this.ensureParent(rel);
    await this.createFile(this.abs(rel), data, mode);
    this.record(rel, createHash('sha256').update(data).digest(), data.length);
  }

  private async createFile(file: Buffer, data: Buffer, mode: number): Promise<void> {
    try {
      const h = await fsp.open(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
      try {
        await h.writeFile(data);
        // The process umask must not widen or narrow the modes the SPEC fixes.
        await h.chmod(mode);
      } finally {
        await h.close();
      }
    } catch (e) {
      throw ioError(e, printable(file), 'cannot write');
    }
  }

  private record(rel: Buffer, sha256: Buffer, size: number): void {
    this.checksums.push({ path: rel, sha256 });
    this.stats.filesWritten++;
    this.stats.bytesWritten += size;
  }

  /** Object keys are raw bytes, UTF-8 or not: file system paths are Buffers. */
  private abs(rel: Buffer): Buffer {
    return Buffer.concat([this.rootPrefix, rel]);
  }

  private async ensureParent(rel: Buffer): Promise<void> {
    const slash = rel.lastIndexOf(0x2f);
    if (slash <= 0) return;
    const dir = rel.subarray(0, slash);
    const id = dir.toString('latin1');
    if (this.madeDirs.has(id)) return;
    try {
      await fsp.mkdir(this.abs(dir), { recursive: true, mode: 0o755 });
    } catch (e) {
      throw ioError(e, printable(this.abs(dir)), 'cannot create directory');
    }
    this.madeDirs.add(id);
  }
}

export function createDirectorySink(opts: DirectorySinkOptions): DirectorySink {
  return new DirectorySink(opts);
}

/** Moves a finished body into place (planning guarantees the name is new). */
async function publish(from: string, to: Buffer): Promise<void> {
  try {
    await fsp.rename(from, to);
  } catch (e) {
    throw ioError(e, printable(to), 'cannot publish');
  }
}
