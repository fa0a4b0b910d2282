/**
 * The output directory of `-o DIR` (SPEC §2): what is refused before any
 * work, and how the finished dump is published.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DecodeError, ioError } from '../errors.js';

/** DIR must be absent or an empty directory, and its parent must exist. */
export async function checkOutput(output: string): Promise<void> {
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
    return; // absent: fine
  }
  if (st.isSymbolicLink()) throw new DecodeError('ERR_USAGE', `output is a symbolic link (not followed): ${output}`);
  if (!st.isDirectory()) throw new DecodeError('ERR_USAGE', `output exists and is not a directory: ${output}`);
  if ((await fsp.readdir(output)).length > 0) throw new DecodeError('ERR_USAGE', `output directory is not empty: ${output}`);
}

/** Moves the finished staging directory to DIR (an empty DIR is replaced: rename(2) allows it). */
export async function publishStaging(staging: string, output: string): Promise<void> {
  try {
    await fsp.rename(staging, output);
  } catch (e) {
    throw ioError(e, output, 'cannot publish the dump (is the output directory still empty?)');
  }
}
