/**
 * The ekv-s3-restore-objects command line (SPEC §11): SOURCE (a dump
 * directory, a dump tar / tar.gz, or a snapshot) to s3://BUCKET[/PREFIX]. One line per failed object and a
 * summary on stderr; a progress line on a terminal. Exit 0 when every
 * object was put or skipped, 1 when any failed or the run could not start,
 * 2 on a usage error.
 */
import { createS3Client, DEFAULT_S3_CONCURRENCY } from '../s3/client.js';
import { restoreObjects, type RestoreSummary } from '../s3/restore.js';
import { withDumpDirectory } from '../s3/restore-source.js';
import { isS3Url, parseS3Url } from '../s3/url.js';
import { abortOnSignals, count, failure, interruptedBy, parseCommand, signalExitCode, usageError } from './common.js';
import { parseS3Flags, S3_FLAG_OPTIONS } from './s3-flags.js';

const NAME = 'ekv-s3-restore-objects';

export const RESTORE_USAGE = `Usage: ${NAME} SOURCE s3://BUCKET[/PREFIX] [options]

Put every object of a dump back as a real S3 object at its original key
(KEYMAP renames reversed), with its Content-Type, Content-Encoding,
Cache-Control, Content-Disposition and user metadata. SOURCE is a dump
directory written by ekv-s3-decode -o, a dump tar or tar.gz, or a snapshot
(a .fsm or JSON-lines file, or s3://BUCKET/KEY); an archive is unpacked and
a snapshot decoded into a scratch directory first. Objects go to BUCKET under PREFIX;
with several buckets in the dump, select one with --bucket or send each
to a bucket of its own with --map. Destination buckets must exist.

Options:
      --bucket NAME          restore only this bucket of the dump (repeatable)
      --map SRC=DEST         restore bucket SRC into bucket DEST (repeatable)
      --overwrite            put objects even when one of the same size and ETag exists
      --scratch-dir DIR      where a tar or snapshot SOURCE is unpacked (default: TMPDIR)
      --s3-endpoint URL      S3 endpoint (default: AWS)
      --s3-path-style        path-style S3 URLs (most non-AWS servers)
      --s3-concurrency N     requests and objects in flight at once (default 4)
      --progress, --no-progress  progress line on stderr (default: on a terminal)
  -q, --quiet                only failures, no summary
  -h, --help                 this help
  -V, --version              print the version

Exit codes: 0 every object put or skipped, 1 some failed, 2 usage error.
`;

/** Where the command writes. */
export interface RestoreIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stderrIsTTY: boolean;
}

const defaultIo: RestoreIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stderrIsTTY: process.stderr.isTTY === true,
};

/** The options of ekv-s3-restore-objects (with -h, -V: lib/cli/common.ts). */
const OPTIONS = {
  bucket: { type: 'string', multiple: true },
  map: { type: 'string', multiple: true },
  overwrite: { type: 'boolean' },
  'scratch-dir': { type: 'string' },
  ...S3_FLAG_OPTIONS,
  progress: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function restoreObjectsMain(argv: string[], io: RestoreIo = defaultIo): Promise<number> {
  const args = parseCommand({ name: NAME, usage: RESTORE_USAGE, options: OPTIONS, allowNegative: true }, argv, io);
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  if (positionals.length !== 2) return usage(io, `give SOURCE and s3://BUCKET[/PREFIX], got ${positionals.length} arguments`);
  const [source, dest] = positionals as [string, string];
  if (!isS3Url(dest)) return usage(io, `the destination must be s3://BUCKET[/PREFIX], not ${dest}`);
  const s3 = parseS3Flags(values);
  if (typeof s3 === 'string') return usage(io, s3);
  const map = new Map<string, string>();
  for (const m of values.map ?? []) {
    const eq = m.indexOf('=');
    if (eq <= 0 || eq === m.length - 1) return usage(io, `--map must be SRC=DEST, not ${m}`);
    map.set(m.slice(0, eq), m.slice(eq + 1));
  }
  const quiet = values.quiet ?? false;
  const showProgress = values.progress ?? (io.stderrIsTTY && !quiet);
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) io.stderr('\r\x1b[K');
    progressShown = false;
  };
  const client = createS3Client(s3);
  // A stop signal ends the run: no new object is started, bodies in flight are dropped, the scratch copy of SOURCE is removed.
  const stop = abortOnSignals();
  let sofar: RestoreSummary | undefined;
  try {
    const { bucket, key: prefix } = parseS3Url(dest);
    const scratchDir = values['scratch-dir'];
    const warn = (w: { event: string }) => io.stderr(`${NAME}: warning ${w.event} (decoding ${source}): ${JSON.stringify(w)}\n`);
    const summary = await withDumpDirectory(source, { s3, onWarning: warn, signal: stop.signal, ...(scratchDir !== undefined ? { scratchDir } : {}) }, (dir) => restoreObjects({
      client,
      source: dir,
      bucket,
      prefix,
      ...(values.bucket ? { buckets: values.bucket } : {}),
      map,
      overwrite: values.overwrite ?? false,
      concurrency: s3.concurrency ?? DEFAULT_S3_CONCURRENCY,
      signal: stop.signal,
      onObject: (r, c) => {
        sofar = c;
        if (r.error) {
          clearProgress();
          io.stderr(`${NAME}: failed ${r.error.code}: bucket ${r.bucket} object ${r.key}: ${r.error.message}\n`);
        }
        if (showProgress) {
          io.stderr(`${io.stderrIsTTY ? '\r\x1b[K' : ''}put ${c.put}, skipped ${c.skipped}, failed ${c.failed}${io.stderrIsTTY ? '' : '\n'}`);
          progressShown = io.stderrIsTTY;
        }
      },
    }));
    clearProgress();
    if (!quiet) io.stderr(`${NAME}: ${summaryLine(summary)}\n`);
    return summary.failed > 0 ? 1 : 0;
  } catch (e) {
    clearProgress();
    const sig = interruptedBy(stop.signal);
    if (sig !== undefined) {
      io.stderr(`${NAME}: interrupted by ${sig}: ${sofar ? `${summaryLine(sofar)} before it; ` : ''}a rerun skips what was put\n`);
      return signalExitCode(sig);
    }
    return failure(NAME, io.stderr, e);
  } finally {
    stop.release();
    client.destroy();
  }
}

/** `put P, skipped S, failed F (B bytes uploaded; M with a multipart ETag verified by the MD5 of their body)`. */
export function summaryLine(s: RestoreSummary): string {
  const md5 = s.verifiedByMd5 > 0 ? `; ${s.verifiedByMd5} with a multipart ETag (H-N), which a plain upload cannot reproduce, verified by the MD5 of the body instead` : '';
  return `put ${s.put}, skipped ${s.skipped}, failed ${s.failed} (${count(s.bytes, 'byte')} uploaded${md5})`;
}

function usage(io: RestoreIo, message: string): number {
  return usageError(io.stderr, NAME, message);
}
