/**
 * The ekv-s3-verify command line (SPEC §13): one line per problem on
 * stdout, a summary on stderr; exit 0 clean, 1 problems (or the dump could
 * not be read), 2 usage. bin/ekv-s3-verify.js is the only place that calls
 * process.exit.
 */
import { count, failure, parseCommand, processIo, usageError, type CommandIo } from './common.js';
import { verifyDump } from '../verify/verify.js';

const NAME = 'ekv-s3-verify';

export const VERIFY_USAGE = `Usage: ${NAME} DUMP [options]

Check that a dump made by ekv-s3-decode is whole and untouched, without
writing anything: MANIFEST.json parses; CHECKSUMS lists every file but
itself exactly once and every hash matches; every body has a sidecar and
every sidecar a body; sidecar size_bytes and plain-MD5 etag match the body;
KEYMAP targets exist; no symlink, hard link, device or file outside the tree.
DUMP is a directory, a tar or tar.gz file, or "-" (a tar or tar.gz on stdin).

Options:
      --scratch-dir DIR   where sort runs go for very large dumps (default: OS temp dir)
  -q, --quiet             no summary line
  -h, --help              this help
  -V, --version           print the version

Each problem is printed as "<path>: <what is wrong>".
Exit codes: 0 clean, 1 problems found (or the dump could not be read), 2 usage error.
`;

/** The options of ekv-s3-verify (with -h, -V: lib/cli/common.ts). */
const OPTIONS = {
  'scratch-dir': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const args = parseCommand({ name: NAME, usage: VERIFY_USAGE, options: OPTIONS }, argv, io);
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  if (positionals.length !== 1) return usage(io, `give exactly one DUMP, got ${positionals.length}`);
  const dump = positionals[0]!;
  if (dump.startsWith('s3://')) return usage(io, 's3:// dumps are not supported yet: download the dump (aws s3 sync) and verify the directory');
  if (dump === '-' && io.stdinIsTTY) return usage(io, 'standard input is a terminal: pipe a tar or tar.gz into it');
  const started = Date.now();
  try {
    const r = await verifyDump(dump, values['scratch-dir'] ? { scratchDir: values['scratch-dir'] } : {});
    for (const p of r.problems) io.stdout(`${p.path}: ${p.message}\n`);
    if (!values.quiet) {
      const secs = ((Date.now() - started) / 1000).toFixed(2);
      io.stderr(`${NAME}: ${count(r.files, 'file')} checked, ${r.problems.length === 0 ? 'no problems' : count(r.problems.length, 'problem')} (${secs} s)\n`);
    }
    return r.problems.length === 0 ? 0 : 1;
  } catch (e) {
    return failure(NAME, io.stderr, e);
  }
}

const usage = (io: CommandIo, message: string): number => usageError(io.stderr, NAME, message);
