/**
 * The objects of a dump directory (SPEC §6), for restore-objects: per
 * bucket directory its name (from _bucket.json), then every object found
 * by its sidecar `<body path>.elastickv-meta.json`, its original key (the
 * body path relative to the bucket directory, or the KEYMAP.jsonl entry for
 * that path when it was renamed) and the sidecar's headers. The tool's own
 * files and opt-in directories (_orphans/, _incomplete_uploads/) are not
 * objects.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DecodeError } from '../errors.js';

const SIDECAR_SUFFIX = '.elastickv-meta.json';
const NOT_OBJECTS = new Set(['_orphans', '_incomplete_uploads']);

/** What an object's sidecar says (SPEC §6). */
export interface Sidecar {
  etag: string;
  size: number;
  contentType?: string;
  contentEncoding?: string;
  cacheControl?: string;
  contentDisposition?: string;
  userMetadata: Record<string, string>;
}

/** One object of the dump. */
export interface DumpObject {
  /** The bucket's name (from _bucket.json). */
  bucket: string;
  /** The original object key, raw bytes. */
  key: Buffer;
  /** The body file. */
  bodyPath: string;
  sidecar: Sidecar;
}

/** A bucket directory of the dump. */
export interface DumpBucket {
  name: string;
  dir: string;
}

/** The buckets of the dump at root (ERR_USAGE when root is not a dump directory). */
export function listDumpBuckets(root: string): DumpBucket[] {
  const s3 = path.join(root, 's3');
  if (!fs.existsSync(path.join(root, 'MANIFEST.json')) || !fs.statSync(s3, { throwIfNoEntry: false })?.isDirectory()) {
    throw new DecodeError('ERR_USAGE', `not a dump directory (no MANIFEST.json and s3/): ${root}`);
  }
  return fs
    .readdirSync(s3)
    .sort()
    .map((d) => ({ name: bucketName(path.join(s3, d)), dir: path.join(s3, d) }));
}

function bucketName(dir: string): string {
  const file = path.join(dir, '_bucket.json');
  try {
    const name = (JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  } catch (e) {
    throw new DecodeError('ERR_IO', `cannot read the bucket's _bucket.json: ${(e as Error).message}`, { path: file });
  }
  throw new DecodeError('ERR_S3_INVALID_BUCKET_META', '_bucket.json has no name', { path: file });
}

/** Original keys of renamed paths: KEYMAP.jsonl's `encoded` (relative path) → `original` (base64url bytes). */
function readKeymap(dir: string): Map<string, Buffer> {
  const file = path.join(dir, 'KEYMAP.jsonl');
  const map = new Map<string, Buffer>();
  if (!fs.existsSync(file)) return map;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    let rec: { encoded?: unknown; original?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      rec = {};
    }
    if (typeof rec.encoded !== 'string' || typeof rec.original !== 'string') throw new DecodeError('ERR_JSONL_LINE', 'not a KEYMAP line {encoded, original, kind}', { path: file, line: i + 1 });
    map.set(rec.encoded, Buffer.from(rec.original, 'base64url'));
  });
  return map;
}

function readSidecar(file: string): Sidecar {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new DecodeError('ERR_IO', `cannot read sidecar: ${(e as Error).message}`, { path: file });
  }
  const str = (k: string) => (typeof j[k] === 'string' && j[k] !== '' ? (j[k] as string) : undefined);
  const size = j.size_bytes;
  if (typeof j.etag !== 'string' || typeof size !== 'number') throw new DecodeError('ERR_S3_INVALID_MANIFEST', 'sidecar without etag or size_bytes', { path: file });
  const meta = j.user_metadata;
  const userMetadata: Record<string, string> = {};
  if (meta && typeof meta === 'object') for (const [k, v] of Object.entries(meta)) if (typeof v === 'string') userMetadata[k] = v;
  const s: Sidecar = { etag: j.etag, size, userMetadata };
  const ct = str('content_type');
  if (ct !== undefined) s.contentType = ct;
  const ce = str('content_encoding');
  if (ce !== undefined) s.contentEncoding = ce;
  const cc = str('cache_control');
  if (cc !== undefined) s.cacheControl = cc;
  const cd = str('content_disposition');
  if (cd !== undefined) s.contentDisposition = cd;
  return s;
}

/** Every object of one bucket directory, in path order. */
export function* bucketObjects(b: DumpBucket): Generator<DumpObject> {
  const keymap = readKeymap(b.dir);
  const walk = function* (rel: string): Generator<DumpObject> {
    const abs = path.join(b.dir, rel);
    for (const e of fs.readdirSync(abs, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (rel === '' && NOT_OBJECTS.has(e.name)) continue;
        yield* walk(r);
      } else if (e.isFile() && e.name.endsWith(SIDECAR_SUFFIX)) {
        const bodyRel = r.slice(0, -SIDECAR_SUFFIX.length);
        const bodyPath = path.join(b.dir, bodyRel);
        if (!fs.existsSync(bodyPath)) continue;
        yield { bucket: b.name, key: keymap.get(bodyRel) ?? Buffer.from(bodyRel), bodyPath, sidecar: readSidecar(path.join(b.dir, r)) };
      }
    }
  };
  yield* walk('');
}
