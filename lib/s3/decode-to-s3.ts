/**
 * decodeSnapshot()'s S3 ends (SPEC §11): `-o s3://BUCKET[/PREFIX]` runs the
 * stages into a DumpSink over an S3Target (after checking the prefix is
 * empty), spilling to a private scratch directory; an `s3://BUCKET/KEY`
 * input is a ranged-GET stream. The client is created here from
 * DecodeOptions.s3 and destroyed when the run or the stream ends.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { DecodeOptions, Summary } from '../decode.js';
import { ioError } from '../errors.js';
import { DumpSink, type DumpSinkOptions } from '../sinks/dump-sink.js';
import { createS3Client, DEFAULT_S3_CONCURRENCY } from './client.js';
import { streamS3Object } from './range-reader.js';
import { checkEmptyPrefix, S3Target } from './s3-target.js';
import { parseS3Url } from './url.js';

/** Runs the stage chain from the input into the sink makeSink builds, spilling under scratch. */
export type StageRunner = (scratch: string, makeSink: (opts: DumpSinkOptions) => DumpSink) => Promise<Summary>;

/** Decodes into objects under `output` (s3://BUCKET[/PREFIX]), which must hold none yet. */
export async function decodeToS3(output: string, options: DecodeOptions, runStages: StageRunner): Promise<Summary> {
  const { bucket, key: prefix } = parseS3Url(output);
  const client = createS3Client(options.s3);
  let scratch: string | undefined;
  let target: S3Target | undefined;
  try {
    await checkEmptyPrefix(client, bucket, prefix);
    const parent = path.resolve(options.scratchDir ?? os.tmpdir());
    try {
      scratch = await fsp.mkdtemp(path.join(parent, 'ekv-s3-decode-'));
    } catch (e) {
      throw ioError(e, parent, 'cannot create scratch directory');
    }
    const t = new S3Target({ client, bucket, prefix, concurrency: options.s3?.concurrency ?? DEFAULT_S3_CONCURRENCY });
    target = t;
    const summary = await runStages(scratch, (sinkOpts) => new DumpSink(t, sinkOpts));
    return { ...summary, output };
  } catch (err) {
    // The sink closes its target when destroyed; closing again waits for that same cleanup.
    await target?.close();
    throw err;
  } finally {
    if (scratch) await fsp.rm(scratch, { recursive: true, force: true }).catch(() => {});
    client.destroy();
  }
}

/** An `s3://BUCKET/KEY` snapshot as a stream (its client goes when the stream closes). */
export async function openS3Input(input: string, options: DecodeOptions): Promise<Readable> {
  const { bucket, key } = parseS3Url(input);
  return streamS3Object(options.s3 ?? {}, bucket, key);
}
