/**
 * What the restore-side commands (ekv-s3-encode, ekv-s3-verify) share: their
 * I/O, --help / --version, and how a usage error or a failure is printed
 * and mapped to an exit code (2 for ERR_USAGE, else 1).
 */
import { DecodeError } from '../errors.js';
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

export function usageError(name: string, io: CommandIo, message: string): number {
  io.stderr(`${name}: error ERR_USAGE: ${message}\nTry '${name} --help'.\n`);
  return 2;
}

/** Prints --help or --version when asked; returns the exit code then, else undefined. */
export function helpOrVersion(name: string, usage: string, io: CommandIo, values: { help?: boolean; version?: boolean }): number | undefined {
  if (values.help) {
    io.stdout(usage);
    return 0;
  }
  if (values.version) {
    io.stdout(`${name} ${VERSION}\n`);
    return 0;
  }
  return undefined;
}

/** Prints an error (a DecodeError with its code, anything else as ERR_IO); returns the exit code. */
export function failure(name: string, io: CommandIo, e: unknown): number {
  if (e instanceof DecodeError) {
    io.stderr(`${name}: error ${e.code}: ${e.message}\n`);
    return e.code === 'ERR_USAGE' ? 2 : 1;
  }
  const err = e as NodeJS.ErrnoException;
  io.stderr(`${name}: error ERR_IO: ${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}\n`);
  return 1;
}
