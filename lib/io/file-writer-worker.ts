/**
 * Worker thread of the SmallFileWriter: creates the files of one batch with
 * synchronous calls, in order, so the kernel's share of creating many small
 * files (open, write, close: most of a 1 KiB object's cost) runs on another
 * core than the main thread's planning and hashing. Each batch's byte block
 * is handed back with the reply, for reuse.
 */
import { parentPort } from 'node:worker_threads';
import { writeNewFileSync } from './fs-callbacks.js';
import { CHMOD, FIELDS, type WriteBatch, type WriteReply } from './small-file-writer.js';

const port = parentPort!;

port.on('message', (batch: WriteBatch) => {
  const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  const t = batch.table;
  for (let i = 0; i < t.length; i += FIELDS) {
    const path = bytes.subarray(t[i]!, t[i]! + t[i + 1]!);
    const data = bytes.subarray(t[i + 2]!, t[i + 2]! + t[i + 3]!);
    const mode = t[i + 4]!;
    const mtime = t[i + 5]!;
    try {
      writeNewFileSync(path, [data], mode & 0o7777, (mode & CHMOD) !== 0, Number.isNaN(mtime) ? undefined : mtime);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      port.postMessage({ id: batch.id, bytes: batch.bytes, failed: { path: Uint8Array.from(path), code: err.code, message: err.message } } satisfies WriteReply, [batch.bytes.buffer as ArrayBuffer]);
      return;
    }
  }
  // The byte block goes back to be filled again.
  port.postMessage({ id: batch.id, bytes: batch.bytes } satisfies WriteReply, [batch.bytes.buffer as ArrayBuffer]);
});
