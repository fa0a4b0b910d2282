/**
 * Where whole-cluster inputs can live (SPEC §11): a store of objects named
 * by '/'-separated keys. The offload reader (offload.ts) needs only these
 * three operations, so a local directory (local-store.ts) and an
 * S3-compatible bucket are interchangeable behind it.
 */
import type { Readable } from 'node:stream';

/** One object a listing returns. */
export interface StoreObject {
  key: string;
  size: number;
}

/** A store of objects named by '/'-separated keys: a local directory, an S3 bucket. */
export interface SnapshotStore {
  /** Where a key lives, for messages and MANIFEST.json (a path, or an s3:// URL). */
  describe(key: string): string;
  /** Every object whose key starts with `prefix`, in byte order of their keys. */
  list(prefix: string): AsyncIterable<StoreObject>;
  /** An object's bytes, streamed. A missing object is an error naming it (ERR_IO in a directory, ERR_S3_REQUEST in a bucket). */
  get(key: string): Promise<Readable>;
  /** Bytes [start, end) of an object, streamed. */
  getRange(key: string, start: number, end: number): Promise<Readable>;
}

/** Reads a small object (a manifest) whole; larger than `max` bytes is refused with `tooBig`. */
export async function getSmall(store: SnapshotStore, key: string, max: number, tooBig: (size: number) => Error): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of await store.get(key)) {
    size += (chunk as Buffer).length;
    if (size > max) throw tooBig(size);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}
