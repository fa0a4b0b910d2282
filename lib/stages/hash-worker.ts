/**
 * Worker thread of the HashPool: hashes run data in shared memory (a slot
 * the spiller copied it into, or the shared block it was decoded into), so
 * SHA-256 and MD5 run beside the main thread's parsing and writing instead
 * of after it. Each data message says which hashes this worker computes of
 * those bytes (the pool spreads runs and parts over its workers). Messages
 * arrive in order on one port; a reply follows each data message as soon as
 * its bytes are hashed. One worker also computes MD5s of ranges of written
 * files, many side by side (md5-files-queue.ts), between those messages.
 */
import { closeSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { readPieces } from '../core/md5-lanes.js';
import { RunDigest, type RunDigestResult } from '../core/run-digest.js';
import { fileRangeStream } from '../io/file-range-stream.js';
import { Md5FilesQueue, type Md5FilesReply, type Md5FilesRequest } from './md5-files-queue.js';

export interface HashWorkerData {
  shared: SharedArrayBuffer;
}

export type HashRequest =
  /** Bytes at offset in the slots buffer, or in `block`; `sha`: this worker owns the run's SHA-256; `md5`: it hashes this stretch's MD5. */
  | { t: 'data'; id: number; partNo: bigint; partVersion: bigint; offset: number; length: number; block?: SharedArrayBuffer; sha: boolean; md5: boolean }
  /** Bytes [offset, offset + length) of the run's file, written already: the start of a stretch whose MD5 this worker now computes. */
  | { t: 'file'; id: number; partNo: bigint; partVersion: bigint; path: string; offset: number; length: number }
  | { t: 'seal'; id: number }
  /** MD5s of ranges of a written file (lib/stages/md5-files.ts), answered when done, not in order with the rest. */
  | ({ t: 'md5-files' } & Md5FilesRequest)
  | { t: 'md5-flush' };

/** 'hashed': one data message is done (in order); 'sealed': what this worker computed of the run (no parts if it got none of it). */
export type HashReply = { t: 'hashed' } | { t: 'sealed'; id: number; result: RunDigestResult } | ({ t: 'md5-files' } & Md5FilesReply);

const data = workerData as HashWorkerData;
const slots = new Uint8Array(data.shared);
const runs = new Map<number, RunDigest>();
const port = parentPort!;
let files: Md5FilesQueue | undefined;

port.on('message', (m: HashRequest) => {
  if (m.t === 'data') {
    let run = runs.get(m.id);
    if (!run) runs.set(m.id, (run = new RunDigest(m.sha)));
    const bytes = m.block ? new Uint8Array(m.block, m.offset, m.length) : slots.subarray(m.offset, m.offset + m.length);
    run.update(m.partNo, m.partVersion, bytes, m.md5);
    port.postMessage({ t: 'hashed' } satisfies HashReply);
  } else if (m.t === 'md5-files') {
    (files ??= new Md5FilesQueue((r) => port.postMessage({ t: 'md5-files', ...r } satisfies HashReply))).add(m);
  } else if (m.t === 'md5-flush') {
    files?.flush();
  } else if (m.t === 'file') {
    let run = runs.get(m.id);
    if (!run) runs.set(m.id, (run = new RunDigest(false)));
    readRange(m.path, m.offset, m.length, (bytes) => run.md5Only(m.partNo, m.partVersion, bytes));
    port.postMessage({ t: 'hashed' } satisfies HashReply);
  } else {
    const run = runs.get(m.id);
    runs.delete(m.id);
    port.postMessage({ t: 'sealed', id: m.id, result: run ? run.digest() : { parts: [] } } satisfies HashReply);
  }
});

/** The buffer readRange reads into, kept for the next. */
let rangeBuf: Buffer | undefined;

/** Feeds bytes [offset, offset + length) of the file at path to `use`, 1 MiB at a time (a read error ends the worker: the pool fails). */
function readRange(path: string, offset: number, length: number, use: (bytes: Uint8Array) => void): void {
  const fd = openSync(path, 'r');
  try {
    readPieces(fileRangeStream(fd, path, offset, length), (rangeBuf ??= Buffer.allocUnsafe(1 << 20)), use);
  } finally {
    closeSync(fd);
  }
}
