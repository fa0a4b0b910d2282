/**
 * What a dump reader learns about each path, as records for an external
 * sort by path: the facts about one path end up adjacent, so a dump of
 * millions of files is checked (check.ts) without holding them all. A
 * sidecar's declared size and ETag are filed under its body's path, so body
 * and sidecar meet too.
 */
import { META_SUFFIX } from '../core/names.js';
import { ExternalSorter, type SortRecord } from '../io/external-sort.js';

export type Fact =
  /** A regular file exists here (nlink 1). */
  | { t: 'file'; size: number }
  /** Something other than a regular file or directory, or a file with other hard links: never acceptable. */
  | { t: 'other'; what: string }
  /** The file's bytes as read: SHA-256 (hex) and, for bodies, MD5 (hex). */
  | { t: 'hash'; size: number; sha256: string; md5?: string }
  /** A CHECKSUMS line names this path with this SHA-256. */
  | { t: 'listed'; sha256: string }
  /** A sidecar for the body at this path says this (filed under the body path). */
  | { t: 'sidecar'; size: number; etag: string }
  /** KEYMAP.jsonl names this path as a renamed object's body. */
  | { t: 'keymap'; encodedUtf8Lossy: boolean }
  /** A problem found while reading this path. */
  | { t: 'problem'; message: string };

/** One problem with a dump: the path (relative to the root) and what is wrong. */
export interface Problem {
  path: string;
  message: string;
}

/** The facts of a dump, sorted by path through an external sort. */
export class FactLog {
  private readonly sorter: ExternalSorter;

  constructor(scratchDir: string, budgetBytes?: number) {
    this.sorter = new ExternalSorter({ dir: scratchDir, name: 'facts', ...(budgetBytes !== undefined ? { budgetBytes } : {}) });
  }

  add(path: Buffer, fact: Fact): Promise<void> {
    return this.sorter.add(path, Buffer.from(JSON.stringify(fact))) ?? Promise.resolve();
  }

  /** Groups of facts per path, in path byte order. */
  async *groups(): AsyncGenerator<{ path: Buffer; facts: Fact[] }> {
    let cur: { path: Buffer; facts: Fact[] } | undefined;
    for await (const r of this.sorter.sorted() as AsyncGenerator<SortRecord>) {
      if (cur && cur.path.equals(r.key)) {
        cur.facts.push(JSON.parse(r.payload.toString()) as Fact);
        continue;
      }
      if (cur) yield cur;
      cur = { path: r.key, facts: [JSON.parse(r.payload.toString()) as Fact] };
    }
    if (cur) yield cur;
  }

  close(): Promise<void> {
    return this.sorter.close();
  }
}

/** The role of a path in a dump tree (SPEC §6), from its bytes alone. */
export type PathRole =
  | { role: 'manifest' | 'checksums' | 'stray' }
  | { role: 'bucket-json' | 'keymap' | 'skipped' | 'orphans' | 'incomplete-uploads'; bucketDir: string }
  | { role: 'sidecar'; bucketDir: string; body: Buffer }
  | { role: 'body'; bucketDir: string; rel: Buffer };

const META = Buffer.from(META_SUFFIX);
const SLASH = 0x2f;

export function pathRole(p: Buffer): PathRole {
  const s = p.toString('latin1');
  if (s === 'MANIFEST.json') return { role: 'manifest' };
  if (s === 'CHECKSUMS') return { role: 'checksums' };
  if (!s.startsWith('s3/')) return { role: 'stray' };
  const slash = p.indexOf(SLASH, 3);
  if (slash < 0) return { role: 'stray' };
  const bucketDir = s.slice(3, slash);
  const rel = p.subarray(slash + 1);
  const relS = s.slice(slash + 1);
  const first = relS.split('/', 1)[0]!;
  if (relS === '_bucket.json') return { role: 'bucket-json', bucketDir };
  if (relS === 'KEYMAP.jsonl') return { role: 'keymap', bucketDir };
  if (relS === '_skipped.jsonl') return { role: 'skipped', bucketDir };
  if (first === '_orphans') return { role: 'orphans', bucketDir };
  if (first === '_incomplete_uploads') return { role: 'incomplete-uploads', bucketDir };
  if (rel.length > META.length && rel.subarray(rel.length - META.length).equals(META) && rel[rel.length - META.length - 1] !== SLASH) {
    return { role: 'sidecar', bucketDir, body: p.subarray(0, p.length - META.length) };
  }
  return { role: 'body', bucketDir, rel };
}
