/**
 * The ekv-s3-encode command line (SPEC §12): a dump back into an elastickv
 * snapshot. Errors and the summary go to stderr; exit 0 ok, 1 the dump
 * could not be encoded (or the self-test failed), 2 usage.
 * bin/ekv-s3-encode.js is the only place that calls process.exit.
 */
import { parseU64Decimal } from '../core/u64.js';
import { encodeDump } from '../encode/encode.js';
import { abortOnSignals, count, failure, interruptedBy, parseCommand, processIo, signalExitCode, usageError, type CommandIo } from './common.js';

const NAME = 'ekv-s3-encode';

export const ENCODE_USAGE = `Usage: ${NAME} DUMP -o OUT.fsm [options]

Turn a dump made by ekv-s3-decode back into an elastickv snapshot (the bare
EKVPBBL1 stream) that elastickv-snapshot-prepare-restore accepts. DUMP is a
dump directory, a tar or tar.gz file of one, or "-" (a tar or tar.gz on
stdin). The dump is verified while it is read (CHECKSUMS, sidecar sizes and
ETags); any problem fails the run and nothing is written. The result is
decoded again and compared with the dump (the self-test) before it is
published at OUT.fsm; OUT.fsm.encode_info.json describes it.

Options:
  -o, --output OUT.fsm      the snapshot to write (must not exist)
      --last-commit-ts T    lastCommitTS and every entry's version (default:
                            the dump's last_commit_ts; may only be raised)
      --header v1|v2        start with an EKVTHLC1 / EKVTHLC2 HLC header
                            (ceiling = (T >> 16) + 1), as node files do
      --footer              end with the CRC-32C footer, as node files do
      --no-self-test        do not decode the result to compare it
      --allow-skipped       encode a dump with _skipped.jsonl (objects missing)
      --scratch-dir DIR     where a tar dump is unpacked and sort runs go
                            (default: OS temp dir)
  -q, --quiet               no summary line
  -h, --help                this help
  -V, --version             print the version

Exit codes: 0 ok, 1 the dump could not be encoded or the self-test failed, 2 usage error.
`;

/** The options of ekv-s3-encode (with -h, -V: lib/cli/common.ts). */
const OPTIONS = {
  output: { type: 'string', short: 'o' },
  'last-commit-ts': { type: 'string' },
  header: { type: 'string' },
  footer: { type: 'boolean' },
  'self-test': { type: 'boolean', default: true },
  'allow-skipped': { type: 'boolean' },
  'scratch-dir': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const args = parseCommand({ name: NAME, usage: ENCODE_USAGE, options: OPTIONS, allowNegative: true }, argv, io);
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  if (positionals.length !== 1) return usage(io, `give exactly one DUMP, got ${positionals.length}`);
  if (values.output === undefined || values.output === '') return usage(io, '-o OUT.fsm is required');
  const header = values.header;
  if (header !== undefined && header !== 'v1' && header !== 'v2') return usage(io, `--header must be v1 or v2, not ${header}`);
  let lastCommitTs: bigint | undefined;
  if (values['last-commit-ts'] !== undefined) {
    lastCommitTs = parseU64Decimal(values['last-commit-ts']);
    if (lastCommitTs === undefined) return usage(io, '--last-commit-ts must be a decimal integer in the uint64 range');
  }
  const dump = positionals[0]!;
  if (dump === '-' && io.stdinIsTTY) return usage(io, 'standard input is a terminal: pipe a tar or tar.gz into it');
  const started = Date.now();
  // A stop signal aborts the run; encodeDump then removes its temporary file and scratch.
  const stop = abortOnSignals();
  try {
    const r = await encodeDump(dump, {
      signal: stop.signal,
      output: values.output,
      ...(lastCommitTs !== undefined ? { lastCommitTs } : {}),
      ...(header ? { header } : {}),
      footer: values.footer ?? false,
      selfTest: values['self-test'] ?? true,
      allowSkipped: values['allow-skipped'] ?? false,
      ...(values['scratch-dir'] ? { scratchDir: values['scratch-dir'] } : {}),
    });
    if (!values.quiet) {
      const secs = (Date.now() - started) / 1000;
      const st = r.selfTest ? 'self-test matched' : 'self-test skipped';
      io.stderr(
        `${NAME}: ${count(r.objects, 'object')} in ${count(r.buckets, 'bucket')}, ${count(r.bodyBytes, 'body byte')} -> ${r.output} (${count(r.bytes, 'byte')}, sha256 ${r.sha256}, last_commit_ts ${r.lastCommitTs}); ${st}; ${secs.toFixed(2)} s\n`,
      );
    }
    return 0;
  } catch (e) {
    const sig = interruptedBy(stop.signal);
    if (sig !== undefined) {
      io.stderr(`${NAME}: interrupted by ${sig}: nothing was published, scratch removed\n`);
      return signalExitCode(sig);
    }
    return failure(NAME, io.stderr, e);
  } finally {
    stop.release();
  }
}

const usage = (io: CommandIo, message: string): number => usageError(io.stderr, NAME, message);
