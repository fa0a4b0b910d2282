/**
 * The ekv-snapshot-jsonl command line (SPEC §2, last paragraph): native
 * snapshot → JSON lines, and JSON lines → native with --to fsm. Parses
 * flags, runs the conversion as one stream pipeline, prints errors on
 * stderr and returns the exit code; bin/ekv-snapshot-jsonl.js is the only
 * place that calls process.exit.
 *
 * With -o FILE the output is written to `FILE.partial-<random>` beside it
 * and renamed over FILE only when complete; a failed or interrupted run
 * removes it and leaves FILE as it was.
 */
import { parseU64Decimal } from '../core/u64.js';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createJsonlToFsm, type FsmWriter } from '../convert/to-fsm.js';
import { createFsmToJsonl, type FsmToJsonl } from '../convert/to-jsonl.js';
import { openInputFile, SHARED_READ_BYTES } from '../io/input-file.js';
import { DecodeError, ioError } from '../errors.js';
import { abortOnSignals, count, describeFailure, interruptedBy, parseCommand, signalExitCode, usageError } from './common.js';

const NAME = 'ekv-snapshot-jsonl';

export const CONVERT_USAGE = `Usage: ${NAME} [INPUT] [--to jsonl|fsm] [options]

Convert an elastickv snapshot between its native form (.fsm) and JSON
lines, so records can be filtered or edited with ordinary JSON tools, and
back. INPUT is a file; absent or "-" reads standard input. The result goes
to standard output unless -o is given.

Directions:
  --to jsonl (default)  native snapshot (with or without HLC header and
                        CRC footer) -> JSON lines, one record per line, in
                        snapshot order:
                          {"key":"<base64>","value":"<base64>","commit_ts":N}
                        tombstones add "tombstone":true (and keep "value"
                        only when non-empty); commit_ts above 2^53-1 is
                        written as a decimal string.
  --to fsm              JSON lines (any order) -> native snapshot: entries
                        sorted by encoded key; a record repeating an earlier
                        key and commit_ts replaces it. The whole input is
                        read first; values wait in a scratch file.

Options:
  -o, --output FILE       write FILE (replaced when complete) instead of stdout
      --to jsonl|fsm      conversion direction (default jsonl)
      --header v1|v2      (--to fsm) start with an EKVTHLC1 / EKVTHLC2 HLC header
      --footer            (--to fsm) end with the CRC-32C footer
      --last-commit-ts N  (--to fsm) lastCommitTS (default: largest commit_ts)
      --ceiling N         (--to fsm --header) HLC ceiling (default: lastCommitTS)
      --cutover N         (--to fsm --header v2) HLC cutover (default 0)
      --scratch-dir DIR   (--to fsm) where values are spilled (default: OS temp dir)
  -v, --verbose           print a summary line on stderr
  -h, --help              this help
  -V, --version           print the version

Exit codes: 0 ok, 1 the conversion failed (bad input, I/O error), 2 usage error.

Examples:
  ${NAME} /var/lib/elastickv/fsm-snap/000000000000002a.fsm > snap.jsonl
  ${NAME} snap.fsm | ekv-s3-decode -o backup/
  ${NAME} snap.fsm | jq -c 'select(.key | @base64d | startswith("!s3|"))' \\
    | ${NAME} --to fsm --header v1 --footer -o s3-only.fsm
  ${NAME} --to fsm edited.jsonl -o 000000000000002a.fsm
`;

export interface ConvertIo {
  /** Standard input, when INPUT is absent or "-". */
  stdin: () => Readable;
  /** Where converted bytes go without -o. */
  stdout: () => Writable;
  /** Help and version text. */
  print: (s: string) => void;
  stderr: (s: string) => void;
  stdoutIsTTY: boolean;
}

const defaultIo: ConvertIo = {
  stdin: () => process.stdin,
  stdout: () => process.stdout,
  print: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdoutIsTTY: process.stdout.isTTY === true,
};


/** The options of ekv-snapshot-jsonl (with -h, -V: lib/cli/common.ts). */
const OPTIONS = {
  output: { type: 'string', short: 'o' },
  to: { type: 'string', default: 'jsonl' },
  header: { type: 'string' },
  footer: { type: 'boolean' },
  'last-commit-ts': { type: 'string' },
  ceiling: { type: 'string' },
  cutover: { type: 'string' },
  'scratch-dir': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

export async function main(argv: string[], io: ConvertIo = defaultIo): Promise<number> {
  const args = parseCommand({ name: NAME, usage: CONVERT_USAGE, options: OPTIONS }, argv, { stdout: io.print, stderr: io.stderr });
  if (typeof args === 'number') return args;
  const { values, positionals } = args;

  // ------------------------------------------------------------- flags
  const to = values.to;
  if (to !== 'jsonl' && to !== 'fsm') return usage(io, `--to must be jsonl or fsm, not ${to}`);
  if (positionals.length > 1) return usage(io, `one INPUT at most, got ${positionals.length}`);
  const fsmOnly = (['header', 'footer', 'last-commit-ts', 'ceiling', 'cutover'] as const).filter((k) => values[k] !== undefined);
  if (to === 'jsonl' && fsmOnly.length > 0) return usage(io, `--${fsmOnly[0]} applies to --to fsm only`);
  const header = values.header;
  if (header !== undefined && header !== 'v1' && header !== 'v2') return usage(io, `--header must be v1 or v2, not ${header}`);
  const nums: Partial<Record<'last-commit-ts' | 'ceiling' | 'cutover', bigint>> = {};
  for (const k of ['last-commit-ts', 'ceiling', 'cutover'] as const) {
    const v = values[k];
    if (v === undefined) continue;
    const n = parseU64Decimal(v);
    if (n === undefined) return usage(io, `--${k} must be a decimal integer in the uint64 range, not ${v}`);
    nums[k] = n;
  }
  if (nums.ceiling !== undefined && header === undefined) return usage(io, '--ceiling needs --header v1|v2');
  if (nums.cutover !== undefined && header !== 'v2') return usage(io, '--cutover needs --header v2');
  const outFile = values.output === '-' ? undefined : values.output;
  if (outFile === undefined && to === 'fsm' && io.stdoutIsTTY) {
    return usage(io, `standard output is a terminal: give -o FILE, or redirect the native snapshot (${NAME} --to fsm ... > snap.fsm)`);
  }
  const inputName = positionals[0] ?? '-';

  // ------------------------------------------------------------- run
  const stop = abortOnSignals();
  const started = Date.now();
  let partial: string | undefined;
  let converter: FsmToJsonl | FsmWriter | undefined;
  try {
    if (outFile !== undefined) await checkOutput(outFile);
    const input = await openInput(inputName, io, to === 'jsonl');
    let output: Writable;
    if (outFile !== undefined) {
      partial = `${path.resolve(outFile)}.partial-${randomBytes(6).toString('hex')}`;
      try {
        output = (await fsp.open(partial, 'wx')).createWriteStream({ highWaterMark: 1 << 20 });
      } catch (e) {
        input.destroy();
        throw ioError(e, partial, 'cannot create the output file');
      }
    } else {
      output = io.stdout();
    }
    converter =
      to === 'jsonl'
        ? createFsmToJsonl()
        : createJsonlToFsm({
            ...(values['scratch-dir'] !== undefined ? { scratchDir: values['scratch-dir'] } : {}),
            ...(header !== undefined ? { header } : {}),
            ...(nums['last-commit-ts'] !== undefined ? { lastCommitTs: nums['last-commit-ts'] } : {}),
            ...(nums.ceiling !== undefined ? { ceiling: nums.ceiling } : {}),
            ...(nums.cutover !== undefined ? { cutover: nums.cutover } : {}),
            footer: values.footer ?? false,
          });
    try {
      await pipeline(input, converter as Duplex, output, { signal: stop.signal });
    } catch (e) {
      // Which side failed: the converter's own errors are DecodeErrors; a
      // write error names the output.
      if (e instanceof DecodeError || stop.signal.aborted) throw e;
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EPIPE' && outFile === undefined) {
        throw new DecodeError('ERR_IO', 'standard output was closed (EPIPE) before the conversion finished', {}, 'run', { cause: e });
      }
      if (output.errored === e) throw ioError(e, outFile ?? '-', 'cannot write the output');
      if (input.errored === e) throw ioError(e, inputName, 'cannot read input');
      throw e;
    }
    if (partial !== undefined) {
      try {
        await fsp.rename(partial, path.resolve(outFile!));
      } catch (e) {
        throw ioError(e, outFile!, 'cannot move the finished output into place');
      }
      partial = undefined;
    }
    if (values.verbose) io.stderr(summaryLine(converter, Date.now() - started));
    return 0;
  } catch (e) {
    const sig = interruptedBy(stop.signal);
    if (sig !== undefined) {
      io.stderr(`${NAME}: interrupted by ${sig}${partial ? ': the partial output was removed' : ''}\n`);
      return signalExitCode(sig);
    }
    const failure = describeFailure(e);
    if (e instanceof DecodeError && e.code === 'ERR_SNAPSHOT_BAD_MAGIC' && e.context.offset === 0 && to === 'jsonl') {
      failure.message += ` (to convert JSON lines to a native snapshot, use --to fsm)`;
    }
    io.stderr(`${NAME}: error ${failure.code}: ${failure.message}\n`);
    if (failure.code === 'ERR_USAGE') io.stderr(`Try '${NAME} --help'.\n`);
    return failure.exit;
  } finally {
    stop.release();
    if (partial !== undefined) await fsp.rm(partial, { force: true }).catch(() => {});
  }
}

function usage(io: ConvertIo, message: string): number {
  return usageError(io.stderr, NAME, message);
}

/** Native input goes to FsmToJsonl, which hands its reads back for reuse (lib/io/file-chunks.ts). */
async function openInput(name: string, io: ConvertIo, native: boolean): Promise<Readable> {
  return name === '-' ? io.stdin() : openInputFile(name, native ? { readSize: SHARED_READ_BYTES, shared: true } : {});
}

/** FILE may be replaced, but must not be a directory, and its directory must exist. */
async function checkOutput(file: string): Promise<void> {
  const abs = path.resolve(file);
  const parent = path.dirname(abs);
  let st: fs.Stats;
  try {
    st = await fsp.stat(parent);
  } catch {
    throw new DecodeError('ERR_USAGE', `the directory of the output file does not exist: ${parent}`);
  }
  if (!st.isDirectory()) throw new DecodeError('ERR_USAGE', `not a directory: ${parent}`);
  try {
    st = await fsp.stat(abs);
  } catch {
    return;
  }
  if (st.isDirectory()) throw new DecodeError('ERR_USAGE', `the output is a directory: ${file} (-o takes a file name)`);
}

function summaryLine(c: FsmToJsonl | FsmWriter, ms: number): string {
  const s = c.stats;
  const secs = ms / 1000;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const rate = secs > 0 ? (s.bytesIn / 1e6 / secs).toFixed(1) : '-';
  const recs =
    'entries' in s
      ? `${count(s.records, 'record')} (${count(s.tombstones, 'tombstone')}) -> ${count(s.entries, 'entry', 'entries')}${s.duplicates ? ` (${count(s.duplicates, 'duplicate')} dropped)` : ''}` +
        `${s.inputSorted ? '' : ', sorted'}, lastCommitTS ${s.lastCommitTs}`
      : `${count(s.records, 'record')} (${count(s.tombstones, 'tombstone')})`;
  return `${NAME}: ${recs}; ${mb(s.bytesIn)} MB in, ${mb(s.bytesOut)} MB out, ${secs.toFixed(2)} s, ${rate} MB/s\n`;
}
