/**
 * The restore-side commands' (ekv-s3-encode, ekv-s3-verify,
 * ekv-s3-restore-objects) I/O object, over the rules every command shares
 * (./common.ts): the usage-error line, --help/--version, failure → exit code.
 */
import { describeFailure, helpOrVersion as commonHelpOrVersion, usageError as commonUsageError } from './common.js';
import { VERSION } from '../version.js';

export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdinIsTTY: boolean;
}

export const processIo: CommandIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdinIsTTY: process.stdin.isTTY === true,
};

/** Prints "NAME: error ERR_USAGE: message" and the --help hint; returns exit code 2. */
export function usageError(name: string, io: CommandIo, message: string): number {
  return commonUsageError(io.stderr, name, message);
}

/** Prints --help or --version when asked; returns the exit code then, else undefined. */
export function helpOrVersion(name: string, usage: string, io: CommandIo, values: { help?: boolean; version?: boolean }): number | undefined {
  return commonHelpOrVersion(values, io.stdout, usage, `${name} ${VERSION}\n`);
}

/** Prints an error (a DecodeError with its code, anything else as ERR_IO); returns the exit code. */
export function failure(name: string, io: CommandIo, e: unknown): number {
  const f = describeFailure(e);
  io.stderr(`${name}: error ${f.code}: ${f.message}\n`);
  return f.exit;
}
