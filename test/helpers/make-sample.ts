/**
 * Writes the bundled sample snapshot used by the README's first command:
 *
 *   npx tsc -p tsconfig.json && node dist/test/helpers/make-sample.js [OUTDIR]
 *
 * OUTDIR defaults to the repository's fixtures/. It writes
 *
 *   fixtures/sample.fsm    a node-style snapshot file: EKVTHLC1 header,
 *                          EKVPBBL1 stream (entries sorted by encoded key),
 *                          CRC-32C footer (SPEC §3.2)
 *   fixtures/sample.jsonl  the same records as JSON lines (SPEC §3.1)
 *
 * Everything is deterministic (bodies come from sampleBody()), so running it
 * again gives identical bytes; test/e2e/sample.test.ts checks that the
 * committed fixtures match and decode to the expected tree.
 *
 * Contents (bucket "photos", generation 1, with metadata):
 *   hello.txt          single-part object, text/plain
 *   videos/clip.mp4    multipart upload: 3 parts (4096, 4096, 2000 bytes) in
 *                      1500-byte chunks, composite "H-3" ETag
 *   docs/report.pdf    one part with part_version 3, plus the chunks of an
 *                      older version 2 of that part (ignored by the decoder)
 *   backups/db.dump    an offloaded part: chunkref records + chunkblob payloads
 *   tmp/deleted.txt    written at commit_ts 100, then deleted at 200 (newer
 *                      tombstones on its manifest and its chunk): not in the dump
 * plus two non-S3 keys (a Redis string and a DynamoDB item), which the
 * decoder counts and skips.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BuildFsmOptions } from './fsm.js';
import * as K from './keys.js';
import { SnapshotBuilder } from './snapshot.js';

/** Human-readable deterministic body: lines "<name> line 0001 ...\n" repeated, cut to n bytes. */
export function sampleBody(name: string, n: number): Buffer {
  let s = '';
  for (let i = 1; s.length < n; i++) s += `${name} line ${String(i).padStart(4, '0')} of the elastickv sample\n`;
  return Buffer.from(s.slice(0, n), 'latin1');
}

export const SAMPLE_BUCKET = 'photos';
/** 2024-04-28T12:34:56Z as an HLC (milliseconds << 16). */
export const SAMPLE_CREATED_HLC = BigInt(Date.UTC(2024, 3, 28, 12, 34, 56)) << 16n;
/** 2024-04-29T09:15:00.25Z as an HLC, with a logical counter in the low bits. */
export const SAMPLE_MODIFIED_HLC = (BigInt(Date.UTC(2024, 3, 29, 9, 15, 0, 250)) << 16n) | 7n;
export const SAMPLE_LAST_COMMIT_TS = 200n;

/** The objects the dump must contain: key, body, put options that matter for the sidecar. */
export const SAMPLE_OBJECTS = {
  hello: { key: 'hello.txt', body: Buffer.from('Hello, elastickv!\n'), contentType: 'text/plain' },
  clip: { key: 'videos/clip.mp4', body: sampleBody('clip', 4096 + 4096 + 2000), parts: [4096, 4096, 2000], contentType: 'video/mp4' },
  report: { key: 'docs/report.pdf', body: sampleBody('report v3', 3500), contentType: 'application/pdf' },
  dump: { key: 'backups/db.dump', body: sampleBody('dump', 5000), contentType: 'application/octet-stream' },
} as const;

export const SAMPLE_FSM_OPTIONS: BuildFsmOptions = {
  header: 'v1',
  ceiling: SAMPLE_MODIFIED_HLC + (1n << 16n) * 1000n,
  footer: true,
  sort: true,
  lastCommitTs: SAMPLE_LAST_COMMIT_TS,
};

/** The sample snapshot's records. */
export function buildSample(): SnapshotBuilder {
  const b = SAMPLE_BUCKET;
  const o = SAMPLE_OBJECTS;
  const common = { lastModifiedHlc: SAMPLE_MODIFIED_HLC };
  const snap = new SnapshotBuilder()
    .bucket(b, { createdAtHlc: SAMPLE_CREATED_HLC, owner: 'alice', region: 'us-east-1', acl: 'private' })
    .putObject(b, o.hello.key, o.hello.body, { ...common, contentType: o.hello.contentType, userMetadata: { author: 'alice' } })
    .putObject(b, o.clip.key, o.clip.body, { ...common, contentType: o.clip.contentType, parts: [...o.clip.parts], chunkSize: 1500, uploadId: 'mpu-7f3a' })
    .putObject(b, o.report.key, o.report.body, {
      ...common,
      contentType: o.report.contentType,
      chunkSize: 1024,
      partVersion: 3,
      // The chunks of the part's previous version 2, still in the snapshot.
      extraChunks: [0, 1, 2].map((chunkNo) => ({ partNo: 1, chunkNo, partVersion: 2, data: sampleBody('report v2', 1024) })),
    })
    .putObject(b, o.dump.key, o.dump.body, { ...common, contentType: o.dump.contentType, offloaded: true, chunkSize: 2048 })
    .putObject(b, 'tmp/deleted.txt', sampleBody('deleted', 300), { ...common, contentType: 'text/plain' })
    .tombstone(K.manifestKey(b, 1, 'tmp/deleted.txt'), 200)
    .tombstone(K.blobKey({ bucket: b, generation: 1, object: 'tmp/deleted.txt', uploadId: 'up-1', partNo: 1, chunkNo: 0 }), 200)
    .record('!redis|str|greeting', 'hello from redis')
    .record('!ddb|item|users|0001', '{"id":"0001","name":"Ada"}');
  return snap;
}

export function writeSample(outDir: string): { fsm: string; jsonl: string } {
  const snap = buildSample();
  fs.mkdirSync(outDir, { recursive: true });
  const fsm = path.join(outDir, 'sample.fsm');
  const jsonl = path.join(outDir, 'sample.jsonl');
  fs.writeFileSync(fsm, snap.toFsm(SAMPLE_FSM_OPTIONS));
  fs.writeFileSync(jsonl, snap.toJsonl());
  return { fsm, jsonl };
}

// Run as a script: node dist/test/helpers/make-sample.js [OUTDIR]
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const { fsm, jsonl } = writeSample(process.argv[2] ?? path.join(repo, 'fixtures'));
  process.stdout.write(`wrote ${fsm} and ${jsonl}\n`);
}
