/**
 * verifyDump(): SPEC §13 — is a dump whole and untouched? Reads a dump
 * directory, or a tar / tar.gz stream of one, once; returns its problems in
 * path order (empty when clean). Writes nothing but sort runs, in a private
 * scratch directory, when the dump has more files than the memory budget
 * holds.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ioError } from '../errors.js';
import { removeTree } from '../io/remove-tree.js';
import { checkFacts } from './check.js';
import { FactCollector } from './collector.js';
import { FactLog, type Problem } from './facts.js';
import { walkDumpDir } from './walk-dir.js';
import { walkDumpTar } from './walk-tar.js';

/** Options of verifyDump() (ekv-s3-verify, SPEC §13). */
export interface VerifyOptions {
  /** Where sort runs may be written (default: the OS temp dir). */
  scratchDir?: string;
  /** Bytes of facts held in memory before they are spilled (default 16 MiB). */
  memoryBudget?: number;
}

/** What verifyDump() found: the problems, one per line. */
export interface VerifyResult {
  problems: Problem[];
  /** Regular files seen. */
  files: number;
}

/** A directory path, a tar/tar.gz path, "-" (stdin) or a byte stream. */
export async function verifyDump(input: string | Readable, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const scratch = await fsp.mkdtemp(path.join(opts.scratchDir ?? os.tmpdir(), 'ekv-s3-verify-')).catch((e: unknown) => {
    throw ioError(e, opts.scratchDir ?? os.tmpdir(), 'cannot create scratch directory');
  });
  const facts = new FactLog(scratch, opts.memoryBudget);
  try {
    const c = new FactCollector(facts);
    if (typeof input === 'string' && input !== '-' && (await fsp.lstat(input).catch(() => undefined))?.isDirectory()) {
      await walkDumpDir(input, c, { hashBodies: true });
    } else {
      await walkDumpTar(await openStream(input), c);
    }
    const problems: Problem[] = [];
    await checkFacts(facts, (p) => problems.push(p));
    return { problems, files: c.files };
  } finally {
    await facts.close();
    await removeTree(scratch);
  }
}

/** A tar(.gz) file, stdin for "-", or the stream given. */
export async function openStream(input: string | Readable): Promise<Readable> {
  if (typeof input !== 'string') return input;
  if (input === '-') return process.stdin;
  const s = fs.createReadStream(input);
  await new Promise<void>((res, rej) => {
    s.once('open', () => res());
    s.once('error', (e) => rej(ioError(e, input, 'cannot open the dump')));
  });
  return s;
}
