/**
 * The self-test of SPEC §12: the written snapshot is decoded again by this
 * project's own pipeline and the result compared with the input dump —
 * every file but MANIFEST.json and CHECKSUMS. Both dumps' CHECKSUMS hold
 * the SHA-256 of every file (the input's was verified against its files
 * while encoding; the decoder computes its own as it verifies), so the
 * comparison is of the two lists, joined by path through an external sort.
 * The decode writes only its CHECKSUMS (lib/sinks/checksums-target.ts): a
 * second dump tree of two files per object, created and then removed, cost
 * more memory and time than the rest of the encoder (issue 12).
 */
import path from 'node:path';
import { decodeChecksums } from '../decode.js';
import { printable } from '../core/printable.js';
import { parseChecksumsLine } from '../verify/check.js';
import { readLines } from '../verify/read-file.js';
import { ExternalSorter } from '../io/external-sort.js';

/** The self-test's verdict: the written snapshot decoded again and compared with the dump. */
export interface SelfTestResult {
  matched: boolean;
  /** Up to 20 differences, "<path>: <what>". */
  differences: string[];
}

const INPUT = 0x61;
const DECODED = 0x62;

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
  const sorter = new ExternalSorter({ dir: opts.scratch, name: 'self-test' });
  try {
    const differences: string[] = [];
    const load = (file: string, side: number) =>
      readLines(Buffer.from(file), 'CHECKSUMS', async (line) => {
        const r = parseChecksumsLine(line);
        if (typeof r === 'string') throw new Error(`${file}: ${r}`);
        if (r.path.toString('latin1') === 'MANIFEST.json' || opts.ignore?.(r.path)) return;
        await sorter.add(r.path, Buffer.from(String.fromCharCode(side) + r.sha256, 'latin1'));
      });
    await load(path.join(opts.dumpRoot, 'CHECKSUMS'), INPUT);
    await load(decoded, DECODED);
    let cur: Buffer | undefined;
    let sides: string[] = [];
    const judge = () => {
      if (!cur || differences.length >= 20) return;
      const a = sides.filter((s) => s.charCodeAt(0) === INPUT);
      const b = sides.filter((s) => s.charCodeAt(0) === DECODED);
      const where = printable(cur);
      if (b.length === 0) differences.push(`${where}: missing after the round trip`);
      else if (a.length === 0) differences.push(`${where}: appears only after the round trip`);
      else if (a[0]!.slice(1) !== b[0]!.slice(1)) differences.push(`${where}: content differs after the round trip`);
    };
    for await (const r of sorter.sorted()) {
      if (!cur || !cur.equals(r.key)) {
        judge();
        cur = r.key;
        sides = [];
      }
      sides.push(r.payload.toString('latin1'));
    }
    judge();
    return { matched: differences.length === 0, differences };
  } finally {
    await sorter.close();
  }
}
