/**
 * The ekv-s3-decode command line (SPEC §2): parses flags, runs
 * decodeSnapshot, prints warnings/errors/summary on stderr and returns the
 * exit code. bin/ekv-s3-decode.js is the only place that calls process.exit.
 */
import type { Writable } from 'node:stream';
import { decodeSnapshot, type DecodeInput, type Progress } from '../decode.js';
import { clusterInputs, CLUSTER_OPTIONS, type ClusterArgs } from './cluster-args.js';
import { parseU64Decimal } from '../core/u64.js';
import { abortOnSignals, describeFailure, interruptedBy, parseCommand, processIo, signalExitCode, usageError } from './common.js';
import { Logger, type LogFormat } from './log.js';
import { ProgressLine } from './progress.js';
import { parseS3Flags, S3_FLAG_OPTIONS } from './s3-flags.js';

const NAME = 'ekv-s3-decode';

export const USAGE = `Usage: ekv-s3-decode [INPUT...] [-o DIR] [options]

Decode an elastickv snapshot (JSON lines or native .fsm) into a plain S3
backup tree. INPUT is a snapshot file or s3://BUCKET/KEY; absent or "-"
reads standard input.
With -o the tree is written to DIR; without it, a tar archive of the same
tree goes to standard output.

Options:
  -o, --output DIR                write the dump to DIR (absent or empty), or
                                  to objects under s3://BUCKET[/PREFIX] (empty)
  -z, --gzip                      gzip the tar stream (without -o)
      --input-format jsonl|fsm    force the input format (default: detect)
      --bucket NAME               keep only this bucket (repeatable)
      --prefix KEYPREFIX          keep only objects whose key starts with this
      --scratch-dir DIR           where chunk payloads are spilled
      --include-incomplete-uploads  keep in-flight multipart uploads
      --include-orphans           keep chunks without a manifest (_orphans/)
      --rename-collisions         rename keys ending in .elastickv-meta.json
      --keep-going                skip bad objects (listed in _skipped.jsonl), exit 3
      --no-verify                 skip size and ETag checks
      --cluster-id ID             copied into MANIFEST.json
      --snapshot-index N          copied into MANIFEST.json
      --keep-scratch              keep the staging directory after a failure
      --log-format text|json      format of warnings and summary on stderr
      --s3-endpoint URL           S3 endpoint for s3:// input or output (default: AWS)
      --s3-path-style             path-style S3 URLs (most non-AWS servers)
      --s3-concurrency N          S3 requests in flight at once (default 4)
      --progress, --no-progress   progress line on stderr (default: on a terminal)
  -q, --quiet                     no summary
  -h, --help                      this help
  -V, --version                   print the version

Whole cluster (several Raft groups merged into one dump):
  INPUT...                        one snapshot per group
      --group-ids N,M,...         the group id of each INPUT, in order
      --data-dir RAFTDIR          decode the newest RAFTDIR/<raftID>/group-<N>/fsm-snap/*.fsm per group
      --from-offload STORE        decode the newest offloaded snapshot per group (v1/groups/...)
                                  of STORE, a directory or s3://BUCKET[/PREFIX]
      --group N                   with --from-offload: only group N (repeatable)

Exit codes: 0 ok, 1 the dump failed, 2 usage error, 3 ok with skipped objects.

Examples:
  ekv-s3-decode /var/lib/elastickv/fsm-snap/000000000000002a.fsm -o backup/
  cat snap.jsonl | ekv-s3-decode -o backup/ --keep-going
  ekv-s3-decode snap.fsm -o one/ --log-format json
  ekv-s3-decode --data-dir /var/lib/elastickv/raft -o cluster-backup/
  ekv-s3-decode snap.fsm -z > backup.tar.gz
  cat snap.jsonl | ekv-s3-decode | tar -x -C restore/
`;

/** The options of ekv-s3-decode (with -h, -V: lib/cli/common.ts). */
const OPTIONS = {
  output: { type: 'string', short: 'o' },
  gzip: { type: 'boolean', short: 'z' },
  'input-format': { type: 'string' },
  'scratch-dir': { type: 'string' },
  bucket: { type: 'string', multiple: true },
  prefix: { type: 'string' },
  'include-incomplete-uploads': { type: 'boolean' },
  'include-orphans': { type: 'boolean' },
  'rename-collisions': { type: 'boolean' },
  'keep-going': { type: 'boolean' },
  verify: { type: 'boolean', default: true },
  'cluster-id': { type: 'string' },
  'snapshot-index': { type: 'string' },
  'keep-scratch': { type: 'boolean' },
  'log-format': { type: 'string', default: 'text' },
  ...S3_FLAG_OPTIONS,
  progress: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  ...CLUSTER_OPTIONS,
} as const;

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Where a tar archive goes. */
  tarStream: () => Writable;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** A terminal on stdin is refused when the input is stdin (a forgotten INPUT). */
  stdinIsTTY?: boolean;
}

const defaultIo: Io = {
  ...processIo,
  tarStream: () => process.stdout,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
};

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const args = parseCommand({ name: NAME, usage: USAGE, options: OPTIONS, allowNegative: true }, argv, io);
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  const logFormat = values['log-format'];
  if (logFormat !== 'text' && logFormat !== 'json') return usage(io, `--log-format must be text or json, not ${logFormat}`);
  const showProgress = values.progress ?? (io.stderrIsTTY && !values.quiet);
  const progress = showProgress ? new ProgressLine(io.stderr, io.stderrIsTTY, logFormat === 'json') : undefined;
  const log = new Logger(
    logFormat as LogFormat,
    (line) => {
      progress?.done();
      io.stderr(`${line}\n`);
    },
    values.quiet ?? false,
  );
  const inputFormat = values['input-format'];
  if (inputFormat !== undefined && inputFormat !== 'jsonl' && inputFormat !== 'fsm') return usage(io, `--input-format must be jsonl or fsm, not ${inputFormat}`);
  const cluster: ClusterArgs = {
    inputs: positionals,
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(values['from-offload'] !== undefined ? { fromOffload: values['from-offload'] } : {}),
    ...(values['group-ids'] !== undefined ? { groupIds: values['group-ids'] } : {}),
    ...(values.group ? { groups: values.group } : {}),
  };
  let snapshotIndex: bigint | undefined;
  if (values['snapshot-index'] !== undefined) {
    snapshotIndex = parseU64Decimal(values['snapshot-index']);
    if (snapshotIndex === undefined) return usage(io, `--snapshot-index must be a decimal integer in the uint64 range`);
  }
  if (values.output === undefined && io.stdoutIsTTY) {
    return usage(io, 'standard output is a terminal: give -o DIR, or redirect the tar stream (ekv-s3-decode ... > dump.tar)');
  }
  const readsStdin = cluster.dataDir === undefined && cluster.fromOffload === undefined && (positionals.length === 0 || positionals.includes('-'));
  if (readsStdin && io.stdinIsTTY) {
    return usage(io, 'standard input is a terminal: give INPUT, or pipe a snapshot in (ekv-s3-decode -o DIR < snap.fsm)');
  }
  if (values.output !== undefined && values.gzip) return usage(io, '--gzip compresses the tar stream: it does not go with -o');
  const s3 = parseS3Flags(values);
  if (typeof s3 === 'string') return usage(io, s3);

  // A stop signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) aborts the pipeline;
  // decodeSnapshot then removes its staging and scratch before we exit 128 + signo.
  const stop = abortOnSignals();
  let skipped = 0;
  try {
    const input: DecodeInput = (await clusterInputs({ ...cluster, s3 }, snapshotIndex !== undefined, (m) => log.note(m))) ?? positionals[0] ?? '-';
    const summary = await decodeSnapshot(input, {
      ...(values.output !== undefined ? { output: values.output } : { tar: io.tarStream(), gzip: values.gzip ?? false }),
      ...(inputFormat ? { inputFormat } : {}),
      ...(values['scratch-dir'] ? { scratchDir: values['scratch-dir'] } : {}),
      ...(values.bucket ? { buckets: values.bucket } : {}),
      ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
      includeIncompleteUploads: values['include-incomplete-uploads'] ?? false,
      includeOrphans: values['include-orphans'] ?? false,
      renameCollisions: values['rename-collisions'] ?? false,
      keepGoing: values['keep-going'] ?? false,
      verify: values.verify ?? true,
      ...(values['cluster-id'] ? { clusterId: values['cluster-id'] } : {}),
      ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
      keepScratch: values['keep-scratch'] ?? false,
      onWarning: (w) => log.warn(w),
      signal: stop.signal,
      s3,
      ...(progress ? { onProgress: (p: Progress) => progress.update(p) } : {}),
    });
    skipped = summary.skipped;
    log.summary(summary);
  } catch (e) {
    const sig = interruptedBy(stop.signal);
    if (sig !== undefined) {
      log.note(`interrupted by ${sig}: nothing was published, scratch removed`);
      return signalExitCode(sig);
    }
    const failure = describeFailure(e);
    log.error(failure.code, failure.message);
    return failure.exit;
  } finally {
    stop.release();
  }
  return skipped > 0 ? 3 : 0;
}

function usage(io: Io, message: string): number {
  return usageError(io.stderr, NAME, message);
}
