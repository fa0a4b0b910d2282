/**
 * One object as the encoder's sort holds it (sorter.ts payload): bucket
 * name, object key, body path and the manifest value, length-prefixed.
 */
export interface ObjectRecord {
  bucket: Buffer;
  /** The original object key (KEYMAP renames reversed). */
  key: Buffer;
  /** The body's path relative to the dump root. */
  bodyPath: Buffer;
  /** The `!s3|obj|head|` value. */
  manifest: Buffer;
}

export function packObject(o: ObjectRecord): Buffer {
  const out = Buffer.allocUnsafe(12 + o.bucket.length + o.key.length + o.bodyPath.length + o.manifest.length);
  let at = 0;
  for (const b of [o.bucket, o.key, o.bodyPath]) {
    at = out.writeUInt32LE(b.length, at);
    at += b.copy(out, at);
  }
  o.manifest.copy(out, at);
  return out;
}

export function unpackObject(b: Buffer): ObjectRecord {
  let at = 0;
  const take = (): Buffer => {
    const n = b.readUInt32LE(at);
    const v = b.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    return v;
  };
  const bucket = take();
  const key = take();
  const bodyPath = take();
  return { bucket, key, bodyPath, manifest: b.subarray(at) };
}
