/**
 * The output directory of `-o DIR` (SPEC §2): what is refused before any
 * work, and how the finished dump is published. An absent DIR is staged
 * beside it (`DIR.partial-XXXXXX`) and renamed into place; an existing empty
 * DIR — a mount point, or `-o .` — is never renamed or replaced: the dump is
 * staged inside it (`DIR/.ekv-partial-XXXXXX`) and its entries are moved up,
 * CHECKSUMS last, so DIR keeps its inode, mode and owner.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DecodeError, ioError } from '../errors.js';

/** DIR must be absent or an empty directory, and its parent must exist; returns whether DIR exists. */
export async function checkOutput(output: string): Promise<boolean> {
  const parent = path.dirname(output);
  let parentStat: fs.Stats;
  try {
    parentStat = await fsp.stat(parent);
  } catch {
    throw new DecodeError('ERR_USAGE', `parent of the output directory does not exist: ${parent}`);
  }
  if (!parentStat.isDirectory()) throw new DecodeError('ERR_USAGE', `parent of the output directory is not a directory: ${parent}`);
  let st: fs.Stats;
  try {
    st = await fsp.lstat(output);
  } catch {
    return false; // absent: fine
  }
  if (st.isSymbolicLink()) throw new DecodeError('ERR_USAGE', `output is a symbolic link (not followed): ${output}`);
  if (!st.isDirectory()) throw new DecodeError('ERR_USAGE', `output exists and is not a directory: ${output}`);
  if ((await fsp.readdir(output)).length > 0) throw new DecodeError('ERR_USAGE', `output directory is not empty: ${output}`);
  return true;
}

/** Moves the finished staging directory (beside DIR) to DIR, which does not exist. */
export async function publishStaging(staging: string, output: string): Promise<void> {
  try {
    await fsp.rename(staging, output);
  } catch (e) {
    throw ioError(e, output, 'cannot publish the dump (is the output directory still empty?)');
  }
}

/**
 * A --scratch-dir at or under DIR would become part of the dump (and make
 * publishing fail after all the work): refuse it before reading anything.
 * Compared after resolving symbolic links, so a link to DIR is caught too.
 */
export async function checkScratchOutside(output: string, scratchDir: string): Promise<void> {
  const [out, scratch] = await Promise.all([canonicalPath(output), canonicalPath(scratchDir)]);
  const rel = path.relative(out, scratch);
  if (rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))) {
    throw new DecodeError('ERR_USAGE', `--scratch-dir ${scratchDir} is inside the output directory ${output}: choose a directory outside it`);
  }
}

/** The absolute path with symbolic links resolved, for as much of it as exists. */
async function canonicalPath(p: string): Promise<string> {
  const abs = path.resolve(p);
  let missing = '';
  for (let at = abs; ; at = path.dirname(at)) {
    try {
      return path.join(await fsp.realpath(at), missing);
    } catch {
      if (at === path.dirname(at)) return abs;
      missing = path.join(path.basename(at), missing);
    }
  }
}

/** The staging directory's name prefix inside an existing DIR (hidden, so `ls` shows DIR empty while the run works). */
export const INNER_STAGING_PREFIX = '.ekv-partial-';

/**
 * Moves the entries of staging (inside dir) up into dir, CHECKSUMS last (a
 * dump without CHECKSUMS is visibly unfinished), then removes staging. dir
 * must hold nothing else. On failure the entries already moved are put back
 * into staging, so dir is left as it was and the caller removes (or keeps)
 * staging as usual.
 */
export async function publishInto(staging: string, dir: string): Promise<void> {
  const others = (await fsp.readdir(dir)).filter((n) => n !== path.basename(staging));
  if (others.length > 0) throw new DecodeError('ERR_IO', `cannot publish the dump: the output directory is no longer empty (it now holds ${JSON.stringify(others[0])})`, { path: dir });
  const names = (await fsp.readdir(staging)).sort((a, b) => Number(a === 'CHECKSUMS') - Number(b === 'CHECKSUMS'));
  const moved: string[] = [];
  try {
    for (const name of names) {
      await fsp.rename(path.join(staging, name), path.join(dir, name));
      moved.push(name);
    }
    await fsp.rmdir(staging);
  } catch (e) {
    for (const name of moved) {
      await fsp.rename(path.join(dir, name), path.join(staging, name)).catch(() => fsp.rm(path.join(dir, name), { recursive: true, force: true }));
    }
    throw ioError(e, dir, 'cannot publish the dump');
  }
}
