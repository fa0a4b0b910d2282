/**
 * A digest of bytes held whole, in one call. Per small object this is the
 * cheaper way on Node 20 (1 KiB, SHA-256 and MD5 together, 200 000 times):
 * createHash().update().digest() 7.1–7.6 µs; crypto.hash() returning a
 * Buffer 5.6 µs; crypto.hash() to hex and Buffer.from(hex) 3.1 µs (a
 * Buffer digest gets a backing store of its own, a hex string's Buffer a
 * slice of Node's pool). Measured with bench/digest.ts.
 */
import { hash } from 'node:crypto';

export function digestOf(algorithm: 'sha256' | 'md5', bytes: Uint8Array): Buffer {
  return Buffer.from(hash(algorithm, bytes, 'hex'), 'hex');
}
