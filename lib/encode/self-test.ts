/**
 * The self-test of SPEC §12: the written snapshot is decoded again by this
 * project's own pipeline and the result compared with the input dump —
 * every file but MANIFEST.json and CHECKSUMS. Both dumps' CHECKSUMS hold
 * the SHA-256 of every file (the input's was verified against its files
 * while encoding; the decoder computes its own as it verifies), so the
 * comparison is of the two lists, joined by path (compare-checksums.ts).
 * The decode writes only its CHECKSUMS (lib/sinks/checksums-target.ts): a
 * second dump tree of two files per object, created and then removed, cost
 * more memory and time than the rest of the encoder (issue 12).
 */
import path from 'node:path';
import { decodeChecksums } from '../decode.js';
import { compareChecksums } from './compare-checksums.js';

/** The self-test's verdict: the written snapshot decoded again and compared with the dump. */
export interface SelfTestResult {
  matched: boolean;
  /** Up to 20 differences, "<path>: <what>". */
  differences: string[];
}

export async function selfTest(opts: {
  fsmPath: string;
  dumpRoot: string;
  scratch: string;
  renameCollisions: boolean;
  /** Paths left out of the comparison (besides MANIFEST.json): the input's _skipped.jsonl files. */
  ignore?: (p: Buffer) => boolean;
  signal?: AbortSignal;
}): Promise<SelfTestResult> {
  const decoded = path.join(opts.scratch, 'self-test-CHECKSUMS');
  try {
    await decodeChecksums(opts.fsmPath, decoded, {
      scratchDir: opts.scratch,
      renameCollisions: opts.renameCollisions,
      onWarning: () => {},
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    opts.signal?.throwIfAborted();
    return { matched: false, differences: [`the written snapshot does not decode: ${(e as Error).message}`] };
  }
  const differences = await compareChecksums({
    input: path.join(opts.dumpRoot, 'CHECKSUMS'),
    decoded,
    scratch: opts.scratch,
    ...(opts.ignore ? { ignore: opts.ignore } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { matched: differences.length === 0, differences };
}
