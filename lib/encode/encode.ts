/**
 * encodeDump(): SPEC §12 — a dump back into an elastickv snapshot.
 *
 *   dump (directory, or tar unpacked to scratch)
 *     → one walk: facts for the checks, buckets, KEYMAP renames, one sort
 *       record per object (seg(bucket) ‖ seg(key) → body path + manifest)
 *     → objects in encoded-key order (external sort): blob chunks straight
 *       into the output, bodies hashed on the way; manifest entries to a
 *       scratch file (their family sorts after every blob and bucket key)
 *     → bucket gen and meta entries, then the manifest entries
 *     → the dump's checks (CHECKSUMS, sidecars); any problem: nothing published
 *     → self-test (decode the file, compare trees) → publish, info file.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { encodeFsmEntry, fsmPreamble } from '../core/fsm-encoder.js';
import { printable } from '../core/printable.js';
import { DecodeError, ioError } from '../errors.js';
import { checkFacts } from '../verify/check.js';
import { FactCollector } from '../verify/collector.js';
import { FactLog, type PathRole } from '../verify/facts.js';
import { streamFile } from '../verify/read-file.js';
import { openStream } from '../verify/verify.js';
import { walkDumpDir } from '../verify/walk-dir.js';
import type { DumpManifest } from './dump-json.js';
import { FsmFile } from './fsm-file.js';
import { writeEncodeInfo } from './info.js';
import { packObject, unpackObject } from './object-record.js';
import * as R from './records.js';
import { selfTest, type SelfTestResult } from './self-test.js';
import { ExternalSorter } from '../io/external-sort.js';
import { removeTree } from '../io/remove-tree.js';
import { extractDumpTar } from './tar-extract.js';

/** Options of encodeDump() (ekv-s3-encode, SPEC §12). */
export interface EncodeOptions {
  /** The output snapshot path; must not exist. */
  output: string;
  /** Raise lastCommitTS above the dump's (never below: ERR_USAGE). */
  lastCommitTs?: bigint;
  /** Decode the result and compare (default true). */
  selfTest?: boolean;
  header?: 'v1' | 'v2';
  footer?: boolean;
  /** Encode a dump that has _skipped.jsonl files (it lacks those objects). */
  allowSkipped?: boolean;
  /** Parent of the private scratch directory (default: the OS temp dir). */
  scratchDir?: string;
  /** Bytes of sort records held in memory per sort before spilling (default 16 MiB). */
  memoryBudget?: number;
  /** For encode_info.json input_root when the input is a stream (default "-"). */
  inputName?: string;
  /** Aborts the run (SIGINT): nothing is published, scratch is removed. */
  signal?: AbortSignal;
}

/** What encodeDump() wrote and found. */
export interface EncodeResult {
  output: string;
  infoPath: string;
  sha256: string;
  bytes: number;
  lastCommitTs: bigint;
  buckets: number;
  objects: number;
  bodyBytes: number;
  selfTest: SelfTestResult | undefined;
}

const problemsError = (what: string, lines: string[], total = lines.length): DecodeError =>
  new DecodeError('ERR_DUMP_INVALID', `${what}:\n  ${lines.slice(0, 20).join('\n  ')}${total > 20 ? `\n  … and ${total - 20} more` : ''}`);

/** Encodes a dump directory, tar/tar.gz file, "-" (stdin) or tar stream into a snapshot file. */
export async function encodeDump(input: string | Readable, opts: EncodeOptions): Promise<EncodeResult> {
  const output = opts.output;
  if (await fsp.lstat(output).catch(() => undefined)) throw new DecodeError('ERR_USAGE', 'the output file exists; not replaced', { path: output });
  const scratchParent = opts.scratchDir ?? os.tmpdir();
  const scratch = await fsp.mkdtemp(path.join(scratchParent, 'ekv-s3-encode-')).catch((e: unknown) => {
    throw ioError(e, scratchParent, 'cannot create scratch directory');
  });
  try {
    let root: string;
    if (typeof input === 'string' && input !== '-' && (await fsp.lstat(input).catch(() => undefined))?.isDirectory()) root = input;
    else {
      root = path.join(scratch, 'dump');
      await fsp.mkdir(root, { mode: 0o700 });
      await extractDumpTar(await openStream(input), root, opts.signal);
    }
    return await encodeRoot(root, typeof input === 'string' ? input : (opts.inputName ?? '-'), scratch, opts);
  } finally {
    await removeTree(scratch);
  }
}

async function encodeRoot(root: string, inputName: string, scratch: string, opts: EncodeOptions): Promise<EncodeResult> {
  const facts = new FactLog(scratch, opts.memoryBudget);
  const objects = new ExternalSorter({ dir: scratch, name: 'objects', ...(opts.memoryBudget ? { budgetBytes: opts.memoryBudget } : {}) });
  const buckets = new Map<string, R.DumpBucket>();
  const renames = new Map<string, Buffer>();
  const refusals: string[] = [];
  const refuse = (rel: Buffer, what: string) => refusals.push(`${printable(rel)}: ${what}`);
  const c = new FactCollector(facts, {
    onBucket: (dir, b) => buckets.set(dir, b),
    onKeymap: (target, original) => renames.set(target.toString('latin1'), original),
    onControlFile: (rel, role) => controlFile(rel, role, opts.allowSkipped === true, refuse),
    onObject: async (o) => {
      opts.signal?.throwIfAborted();
      const bucket = buckets.get(o.bucketDir);
      if (!bucket) return; // its _bucket.json is missing or bad: a problem fact says so
      const name = Buffer.from(bucket.name);
      const key = renames.get(o.bodyPath.toString('latin1')) ?? o.bodyPath.subarray(4 + Buffer.byteLength(o.bucketDir, 'latin1'));
      await objects.add(R.objectSortKey(name, key), packObject({ bucket: name, key, bodyPath: o.bodyPath, manifest: R.manifestValue(o.sidecar) }));
    },
  });
  let file: FsmFile | undefined;
  try {
    await walkDumpDir(root, c, { hashBodies: false });
    const manifest = c.manifest;
    if (manifest) refuseExclusions(manifest, refuse);
    if (!manifest || refusals.length > 0) {
      const problems: string[] = [...refusals];
      await checkFacts(facts, (p) => problems.push(`${p.path}: ${p.message}`));
      throw problemsError('the dump cannot be encoded', problems);
    }
    const T = lastCommitTs(manifest, opts.lastCommitTs);

    file = await FsmFile.create(opts.output, { footer: opts.footer === true, durable: true });
    const counts = await writeEntries(file, root, scratch, T, objects, buckets, facts, opts);
    const problems: string[] = [];
    await checkFacts(facts, (p) => problems.push(`${p.path}: ${p.message}`));
    if (problems.length > 0) throw problemsError('the dump does not verify; nothing was written', problems);
    const sha256 = await file.close();
    // Read through: their run files and buffers go before the self-test's decode needs the memory.
    await objects.close();
    await facts.close();

    let st: SelfTestResult | undefined;
    if (opts.selfTest !== false) {
      st = await selfTest({
        fsmPath: file.tmpPath,
        dumpRoot: root,
        scratch,
        renameCollisions: manifest.renameCollisions,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.allowSkipped ? { ignore: (p: Buffer) => p.toString('latin1').endsWith('/_skipped.jsonl') } : {}),
      });
    }
    const info = {
      wallTimeMs: Date.now(),
      inputRoot: inputName,
      outputFsmPath: opts.output,
      outputFsmSha256: sha256,
      lastCommitTs: T,
      lastCommitTsOverridden: opts.lastCommitTs !== undefined,
      manifestLastCommitTs: manifest.lastCommitTs,
      manifestClusterId: manifest.clusterId,
      selfTest: { ran: st !== undefined, matched: st?.matched ?? false },
    };
    if (st && !st.matched) {
      await writeEncodeInfo(info);
      throw new DecodeError('ERR_SELF_TEST_MISMATCH', `self-test failed, nothing was published:\n  ${st.differences.join('\n  ')}`, { path: opts.output });
    }
    await file.publish();
    const infoPath = await writeEncodeInfo(info);
    return { output: opts.output, infoPath, sha256, bytes: file.bytes, lastCommitTs: T, ...counts, selfTest: st };
  } finally {
    await file?.discard();
    await objects.close();
    await facts.close();
  }
}

function controlFile(rel: Buffer, role: PathRole, allowSkipped: boolean, refuse: (rel: Buffer, what: string) => void): void {
  if (role.role === 'orphans' || role.role === 'incomplete-uploads') {
    if (rel.toString('latin1').endsWith('.elastickv-meta.json')) refuse(rel, 'a user object collides with a reserved dump directory');
    else refuse(rel, `the dump holds ${role.role === 'orphans' ? '_orphans/' : '_incomplete_uploads/'}, which a snapshot cannot hold`);
  } else if (role.role === 'skipped' && !allowSkipped) {
    refuse(rel, 'the dump skipped objects (_skipped.jsonl): it is incomplete (--allow-skipped encodes it anyway)');
  }
}

function refuseExclusions(m: DumpManifest, refuse: (rel: Buffer, what: string) => void): void {
  const at = Buffer.from('MANIFEST.json');
  if (m.includeIncompleteUploads) refuse(at, 'made with include_incomplete_uploads: elastickv cannot restore in-flight uploads');
  if (m.includeOrphans) refuse(at, 'made with include_orphans: elastickv cannot restore orphan chunks');
}

function lastCommitTs(m: DumpManifest, override: bigint | undefined): bigint {
  if (override === undefined) return m.lastCommitTs;
  if (override < m.lastCommitTs) {
    throw new DecodeError('ERR_USAGE', `--last-commit-ts ${override} is below the dump's last_commit_ts ${m.lastCommitTs}: restoring must not lower the HLC ceiling`);
  }
  return override;
}

/** Every entry, in encoded-key order: blobs, bucket gen, bucket meta, manifests. */
async function writeEntries(
  file: FsmFile,
  root: string,
  scratch: string,
  T: bigint,
  objects: ExternalSorter,
  buckets: Map<string, R.DumpBucket>,
  facts: FactLog,
  opts: EncodeOptions,
): Promise<{ buckets: number; objects: number; bodyBytes: number }> {
  const entry = (key: Buffer, value: Buffer, what: string): Buffer[] => {
    try {
      return encodeFsmEntry({ key, value, commitTs: T, tombstone: false });
    } catch (e) {
      throw new DecodeError('ERR_DUMP_INVALID', `${what}: ${(e as Error).message}`, { key });
    }
  };
  const ceiling = (T >> 16n) + 1n;
  await file.write([fsmPreamble({ lastCommitTs: T, ...(opts.header ? { header: opts.header, ceiling } : {}) })]);

  const manifestsPath = path.join(scratch, 'manifest-entries');
  const manifests = await FsmFile.create(manifestsPath, { footer: false, durable: false });
  let count = 0;
  let bodyBytes = 0;
  try {
    let prev: Buffer | undefined;
    const rootSlash = Buffer.from(`${root}/`);
    for await (const rec of objects.sorted()) {
      opts.signal?.throwIfAborted();
      const o = unpackObject(rec.payload);
      if (prev?.equals(rec.key)) throw new DecodeError('ERR_DUMP_INVALID', 'two files of the dump stand for the same object key', { bucket: o.bucket, object: o.key });
      prev = rec.key;
      let chunkNo = 0;
      const show = printable(o.bodyPath);
      const h = await streamFile(Buffer.concat([rootSlash, o.bodyPath]), show, {
        md5: true,
        chunkBytes: R.CHUNK_BYTES,
        onChunk: (chunk) => file.write(entry(R.restoreBlobKey(o.bucket, o.key, chunkNo++), chunk, show)),
      });
      await facts.add(o.bodyPath, { t: 'hash', ...h });
      await manifests.write(entry(R.restoreManifestKey(o.bucket, o.key), o.manifest, show));
      count++;
      bodyBytes += h.size;
    }
    await manifests.close();
    const bs = [...buckets.values()].map((b) => ({ b, name: Buffer.from(b.name) }));
    bs.sort((x, y) => Buffer.compare(R.restoreBucketGenKey(x.name), R.restoreBucketGenKey(y.name)));
    for (const { name } of bs) await file.write(entry(R.restoreBucketGenKey(name), R.bucketGenValue(), 'bucket'));
    for (const { b, name } of bs) await file.write(entry(R.restoreBucketMetaKey(name), R.bucketMetaValue(b), 'bucket'));
    await file.append(manifests.tmpPath);
  } finally {
    await manifests.discard();
  }
  if (opts.footer) await file.footer();
  return { buckets: buckets.size, objects: count, bodyBytes };
}
