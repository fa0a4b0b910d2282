/**
 * Turns what a dump reader sees — a directory walk or a tar stream — into
 * facts (facts.ts), parsing the dump's own JSON files on the way. Readers
 * call it per file; the parsed bucket, KEYMAP and sidecar contents go to
 * the callbacks (the encoder's input).
 */
import { enc } from '../core/names.js';
import { printable } from '../core/printable.js';
import { DumpJsonError, parseBucketJson, parseDumpManifest, parseKeymapLine, parseSidecar, type DumpManifest } from '../encode/dump-json.js';
import type { DumpBucket, DumpSidecar } from '../encode/records.js';
import { parseChecksumsLine } from './check.js';
import { pathRole, type Fact, type FactLog, type PathRole } from './facts.js';
import type { FileHashes } from './read-file.js';

export interface DumpObject {
  /** Bucket directory name (enc of the bucket name). */
  bucketDir: string;
  /** The body's path relative to the dump root. */
  bodyPath: Buffer;
  sidecar: DumpSidecar;
}

export interface CollectorCallbacks {
  /** A bucket directory's _bucket.json parsed and matches its directory name. */
  onBucket?: (dir: string, bucket: DumpBucket) => void;
  /** A KEYMAP.jsonl record: body path relative to the dump root → original key. */
  onKeymap?: (target: Buffer, original: Buffer) => void;
  /** A sidecar parsed. */
  onObject?: (o: DumpObject) => Promise<void> | void;
  /** A file of a role the encoder refuses or ignores (_orphans, _incomplete_uploads, _skipped.jsonl, strays). */
  onControlFile?: (rel: Buffer, role: PathRole) => void;
}

export class FactCollector {
  manifest: DumpManifest | undefined;
  private sawManifest = false;
  private sawChecksums = false;
  /** Bucket directories seen, and whether each had a _bucket.json. */
  private readonly bucketDirs = new Map<string, boolean>();

  constructor(
    readonly facts: FactLog,
    private readonly cb: CollectorCallbacks = {},
  ) {}

  /** Regular files seen. */
  files = 0;

  add(rel: Buffer, fact: Fact): Promise<void> {
    if (fact.t === 'file') this.files++;
    return this.facts.add(rel, fact);
  }

  problem(rel: Buffer | string, message: string): Promise<void> {
    return this.facts.add(typeof rel === 'string' ? Buffer.from(rel) : rel, { t: 'problem', message });
  }

  /** Runs a parser; a DumpJsonError becomes a problem at rel, anything else propagates. */
  private async parse<T>(rel: Buffer, fn: () => T): Promise<T | undefined> {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof DumpJsonError)) throw e;
      await this.problem(rel, e.message);
      return undefined;
    }
  }

  /** A bucket directory exists (s3/<dir>/). */
  bucketDir(dir: string): void {
    if (!this.bucketDirs.has(dir)) this.bucketDirs.set(dir, false);
  }

  async manifestFile(rel: Buffer, bytes: Buffer, sha256: string): Promise<void> {
    this.sawManifest = true;
    await this.add(rel, { t: 'hash', size: bytes.length, sha256 });
    this.manifest = await this.parse(rel, () => parseDumpManifest(bytes));
  }

  async checksumsLine(rel: Buffer, line: Buffer, n: number): Promise<void> {
    this.sawChecksums = true;
    const r = parseChecksumsLine(line);
    if (typeof r === 'string') await this.problem(rel, `line ${n}: ${r}`);
    else await this.add(r.path, { t: 'listed', sha256: r.sha256 });
  }

  async bucketJson(rel: Buffer, dir: string, bytes: Buffer, sha256: string): Promise<void> {
    this.bucketDirs.set(dir, true);
    await this.add(rel, { t: 'hash', size: bytes.length, sha256 });
    const b = await this.parse(rel, () => parseBucketJson(bytes, printable(rel)));
    if (!b) return;
    const want = enc(Buffer.from(b.name));
    if (want !== dir) await this.problem(rel, `bucket name ${JSON.stringify(b.name)} belongs in directory s3/${want}, not s3/${dir}`);
    else this.cb.onBucket?.(dir, b);
  }

  async keymapLine(rel: Buffer, bucketRoot: Buffer, line: Buffer, n: number): Promise<void> {
    if (line.length === 0) return;
    const r = await this.parse(rel, () => parseKeymapLine(line, `line ${n}`));
    if (!r) return;
    const target = Buffer.concat([bucketRoot, Buffer.from(r.encoded)]);
    if (pathRole(target).role !== 'body') {
      await this.problem(rel, `line ${n}: "${r.encoded}" is not where an object body can be`);
      return;
    }
    await this.add(target, { t: 'keymap', encodedUtf8Lossy: r.encoded.includes('\ufffd') });
    this.cb.onKeymap?.(target, r.original);
  }

  async sidecar(rel: Buffer, role: Extract<PathRole, { role: 'sidecar' }>, bytes: Buffer, sha256: string, bodyExists: boolean): Promise<void> {
    await this.add(rel, { t: 'hash', size: bytes.length, sha256 });
    const sidecar = await this.parse(rel, () => parseSidecar(bytes, printable(rel)));
    if (!sidecar) return;
    await this.add(role.body, { t: 'sidecar', size: sidecar.sizeBytes, etag: sidecar.etag });
    if (bodyExists) await this.cb.onObject?.({ bucketDir: role.bucketDir, bodyPath: role.body, sidecar });
  }

  hashed(rel: Buffer, h: FileHashes): Promise<void> {
    return this.add(rel, { t: 'hash', ...h });
  }

  controlFile(rel: Buffer, role: PathRole): void {
    this.cb.onControlFile?.(rel, role);
  }

  /** Problems known only once every file was seen. */
  async finish(): Promise<void> {
    if (!this.sawManifest) await this.problem('MANIFEST.json', 'MANIFEST.json is missing or not a regular file');
    if (!this.sawChecksums) await this.problem('CHECKSUMS', 'CHECKSUMS is missing, empty or not a regular file: the dump is incomplete');
    for (const [dir, hasJson] of this.bucketDirs) {
      if (!hasJson) await this.problem(Buffer.from(`s3/${dir}/_bucket.json`, 'latin1'), 'bucket directory has no _bucket.json (a regular file)');
    }
  }
}
