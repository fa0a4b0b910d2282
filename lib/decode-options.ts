/**
 * Checks decodeSnapshot's arguments before anything is opened or created: a
 * library caller's mistake (an option of the wrong type, an object-mode
 * input stream of other things than bytes) is ERR_USAGE, never a TypeError
 * from inside the pipeline.
 */
import { Readable, Transform } from 'node:stream';
import { DecodeError } from './errors.js';

const fail = (what: string) => new DecodeError('ERR_USAGE', `decodeSnapshot: ${what}`);

const TYPES: Record<string, 'string' | 'boolean' | 'bigint' | 'number' | 'function'> = {
  output: 'string',
  gzip: 'boolean',
  scratchDir: 'string',
  prefix: 'string',
  includeIncompleteUploads: 'boolean',
  includeOrphans: 'boolean',
  renameCollisions: 'boolean',
  keepGoing: 'boolean',
  verify: 'boolean',
  clusterId: 'string',
  snapshotIndex: 'bigint',
  keepScratch: 'boolean',
  onWarning: 'function',
  onProgress: 'function',
  progressIntervalMs: 'number',
  sourceName: 'string',
};

export function checkDecodeArguments(input: unknown, options: unknown): void {
  if (typeof input !== 'string' && !(input instanceof Readable) && !Array.isArray(input)) throw fail('input must be a path, "-", a byte stream (Readable) or an array of cluster inputs');
  if (typeof options !== 'object' || options === null) throw fail('options must be an object');
  const o = options as Record<string, unknown>;
  for (const [name, type] of Object.entries(TYPES)) {
    if (o[name] !== undefined && typeof o[name] !== type) throw fail(`option ${name} must be a ${type}`);
  }
  const tar = o.tar as { write?: unknown; on?: unknown } | undefined;
  if (tar !== undefined && (typeof tar !== 'object' || tar === null || typeof tar.write !== 'function' || typeof tar.on !== 'function')) throw fail('option tar must be a Writable');
  if (o.inputFormat !== undefined && o.inputFormat !== 'jsonl' && o.inputFormat !== 'fsm') throw fail('option inputFormat must be "jsonl" or "fsm"');
  if (o.buckets !== undefined && !(Array.isArray(o.buckets) && o.buckets.every((b) => typeof b === 'string'))) throw fail('option buckets must be an array of strings');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw fail('option signal must be an AbortSignal');
}

/**
 * Put after an object-mode input stream (Readable.from([buffer]) is one):
 * passes Buffers and Uint8Arrays on as bytes and fails on anything else,
 * which the byte-mode reader would otherwise throw at synchronously.
 */
export function bytesOnly(): Transform {
  return new Transform({
    writableObjectMode: true,
    transform(chunk: unknown, _enc, cb) {
      if (chunk instanceof Uint8Array) return cb(null, chunk);
      cb(fail(`the input stream must carry bytes (Buffer or Uint8Array), not ${chunk === null ? 'null' : typeof chunk}`));
    },
  });
}
