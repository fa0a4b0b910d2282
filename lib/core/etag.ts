/**
 * ETag arithmetic (SPEC §5.6). ETags are hex MD5s, surrounding quotes
 * stripped and case ignored; `H-N` is the multipart form: MD5 of the
 * concatenated binary part MD5s, then `-N`. Other shapes are not checked.
 */
import { createHash } from 'node:crypto';

/** What parseEtag() found. */
export type EtagShape = { kind: 'md5'; hex: string } | { kind: 'composite'; hex: string; parts: number } | { kind: 'unchecked' };

/** The shape of an ETag: a plain MD5, a composite H-N, or something not checked. */
export function parseEtag(etag: string): EtagShape {
  let s = etag;
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  s = s.toLowerCase();
  if (/^[0-9a-f]{32}$/.test(s)) return { kind: 'md5', hex: s };
  const m = /^([0-9a-f]{32})-([0-9]+)$/.exec(s);
  if (m) return { kind: 'composite', hex: m[1]!, parts: Number(m[2]) };
  return { kind: 'unchecked' };
}

/** The `H-N` ETag of a body whose parts have these binary MD5s. */
export function compositeEtag(partMd5s: Buffer[]): string {
  const h = createHash('md5');
  for (const m of partMd5s) h.update(m);
  return `${h.digest('hex')}-${partMd5s.length}`;
}

/**
 * Checks an object's ETags against the MD5s of its bytes; returns the first
 * mismatch as a message, or null. partMd5s are in body order, one per
 * declared part (chunk_count 0 parts included); bodyMd5 may be absent when
 * the object ETag is not a plain MD5.
 */
export function checkEtags(objectEtag: string, parts: Array<{ partNo: bigint; etag: string; md5: Buffer }>, bodyMd5: Buffer | undefined): string | null {
  for (const p of parts) {
    const shape = parseEtag(p.etag);
    const actual = p.md5.toString('hex');
    if (shape.kind === 'md5' && shape.hex !== actual) return `part ${p.partNo} ETag ${shape.hex} != MD5 ${actual}`;
  }
  const shape = parseEtag(objectEtag);
  if (shape.kind === 'md5' && bodyMd5) {
    const actual = bodyMd5.toString('hex');
    if (shape.hex !== actual) return `ETag ${shape.hex} != MD5 ${actual}`;
  } else if (shape.kind === 'composite') {
    const actual = compositeEtag(parts.map((p) => p.md5));
    if (`${shape.hex}-${shape.parts}` !== actual) return `ETag ${shape.hex}-${shape.parts} != composite MD5 ${actual}`;
  }
  return null;
}

/** Whether checking this object needs the whole-body MD5. */
export function needsBodyMd5(objectEtag: string): boolean {
  return parseEtag(objectEtag).kind === 'md5';
}
