/**
 * What the command lines share: parsing the options (with -h/--help and
 * -V/--version), the usage-error line, stopping on a signal, and the
 * error-to-exit-code rule. Each command states only its own options.
 */
import os from 'node:os';
import { stdinIsTTY } from '../io/stdin.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DecodeError } from '../errors.js';
import { VERSION } from '../version.js';

/** Where a command writes, and whether its standard input is a terminal. */
export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdinIsTTY: boolean;
}

/** The process's own standard streams. */
export const processIo: CommandIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdinIsTTY: stdinIsTTY(),
};

/** A command's option table, as parseArgs takes it. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes besides its own. */
const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** A command's name, help text and own options. */
export interface CommandSpec<O extends CommandOptions> {
  name: string;
  usage: string;
  options: O;
  /** Accept --no-FLAG for boolean options. */
  allowNegative?: boolean;
}

/** The values and positionals parseArgs gives for options O. */
export type CommandArgs<O extends CommandOptions> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; allowNegative: true }>>;

/**
 * Parses argv by spec (and -h/--help, -V/--version): the values and
 * positionals, or the exit code when the command is done already — 0 after
 * printing the help or the version, 2 after a usage error.
 */
export function parseCommand<O extends CommandOptions>(spec: CommandSpec<O>, argv: string[], out: { stdout: (s: string) => void; stderr: (s: string) => void }): CommandArgs<O> | number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, allowNegative: spec.allowNegative ?? false, options: { ...spec.options, ...COMMON_OPTIONS } });
  } catch (e) {
    return usageError(out.stderr, spec.name, (e as Error).message);
  }
  const { help, version } = parsed.values as { help?: boolean; version?: boolean };
  const early = helpOrVersion({ help, version }, out.stdout, spec.usage, `${spec.name} ${VERSION}\n`);
  return early ?? (parsed as unknown as CommandArgs<O>);
}

/** Prints "NAME: error ERR_USAGE: message" and the --help hint; returns exit code 2. */
/** "1 object", "2 objects", "0 objects": every summary line counts this way. */
export function count(n: number | bigint, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 || n === 1n ? noun : plural}`;
}

export function usageError(stderr: (s: string) => void, name: string, message: string): number {
  stderr(`${name}: error ERR_USAGE: ${message}\nTry '${name} --help'.\n`);
  return 2;
}

/** Handles --help and --version: exit code 0 when one was given (after printing), else undefined. */
function helpOrVersion(values: { help?: boolean | undefined; version?: boolean | undefined }, print: (s: string) => void, usage: string, versionLine: string): number | undefined {
  if (values.help) {
    print(usage);
    return 0;
  }
  if (values.version) {
    print(versionLine);
    return 0;
  }
  return undefined;
}

/**
 * The signals that stop a run (its cleanup then runs before the exit):
 * SIGINT, SIGTERM, and SIGHUP and SIGQUIT (an ssh session dropped during a
 * long backup), which would otherwise kill the process and leave its
 * staging and scratch behind.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** The exit codes of a run stopped by one of STOP_SIGNALS (bin/ exits at once on these: stdout's reader may be gone). */
export const SIGNAL_EXIT_CODES: readonly number[] = STOP_SIGNALS.map(signalExitCode);

/**
 * An AbortSignal that fires (reason: the signal's name) on any of
 * STOP_SIGNALS until release() is called.
 */
export function abortOnSignals(): { signal: AbortSignal; release: () => void } {
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => abort.abort(sig);
  for (const s of STOP_SIGNALS) process.once(s, onSignal);
  return {
    signal: abort.signal,
    release: () => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
    },
  };
}

/** The signal that aborted `signal` (abortOnSignals), or undefined if it did not fire. */
export function interruptedBy(signal: AbortSignal): NodeJS.Signals | undefined {
  return signal.aborted ? (signal.reason as NodeJS.Signals) : undefined;
}

/** The shell's exit code for death by a signal: 128 + its number (SIGHUP 129, SIGINT 130, SIGQUIT 131, SIGTERM 143). */
export function signalExitCode(sig: NodeJS.Signals): number {
  return 128 + os.constants.signals[sig];
}

/**
 * How a failure is reported: its error code and message, and the exit code
 * (2 for ERR_USAGE, else 1). Anything that is not a DecodeError is an
 * unexpected I/O failure, shown as ERR_IO with its system code.
 */
export function describeFailure(e: unknown): { code: string; message: string; exit: number } {
  if (e instanceof DecodeError) return { code: e.code, message: e.message, exit: e.code === 'ERR_USAGE' ? 2 : 1 };
  const err = e as NodeJS.ErrnoException;
  return { code: 'ERR_IO', message: `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`, exit: 1 };
}

/** Prints a failure as "NAME: error CODE: message" (describeFailure); returns its exit code. */
export function failure(name: string, stderr: (s: string) => void, e: unknown): number {
  const f = describeFailure(e);
  stderr(`${name}: error ${f.code}: ${f.message}\n`);
  return f.exit;
}
