/**
 * `OUT.fsm.encode_info.json` (SPEC §12): what was encoded from what, as
 * elastickv's encoder describes its output — Go `json.Encoder` with a
 * two-space indent (HTML escaping on) and a trailing newline.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import { marshalIndent } from '../core/gojson-write.js';
import { formatUnixMilli } from '../core/hlc.js';
import { ioError } from '../errors.js';
import { VERSION } from '../version.js';

export interface EncodeInfo {
  wallTimeMs: number;
  inputRoot: string;
  outputFsmPath: string;
  outputFsmSha256: string;
  lastCommitTs: bigint;
  lastCommitTsOverridden: boolean;
  manifestLastCommitTs: bigint;
  manifestClusterId: string;
  selfTest: { ran: boolean; matched: boolean };
}

export const encodeInfoPath = (fsmPath: string): string => `${fsmPath}.encode_info.json`;

export function renderEncodeInfo(i: EncodeInfo): string {
  return (
    marshalIndent({
      format_version: 1,
      encoder_version: `ekv-s3-encode ${VERSION}`,
      encoder_key_format_version: 1,
      wall_time_iso: formatUnixMilli(i.wallTimeMs),
      input_root: i.inputRoot,
      output_fsm_path: i.outputFsmPath,
      output_fsm_sha256: i.outputFsmSha256,
      last_commit_ts: i.lastCommitTs,
      last_commit_ts_overridden: i.lastCommitTsOverridden,
      manifest_last_commit_ts: i.manifestLastCommitTs,
      manifest_cluster_id: i.manifestClusterId === '' ? undefined : i.manifestClusterId,
      adapters_enabled: ['s3'],
      self_test: { ran: i.selfTest.ran, matched: i.selfTest.matched },
    }) + '\n'
  );
}

/** Writes the info file beside the snapshot (replacing an older one), through a temporary name. */
export async function writeEncodeInfo(i: EncodeInfo): Promise<string> {
  const file = encodeInfoPath(i.outputFsmPath);
  const tmp = `${file}.partial-${randomBytes(6).toString('hex')}`;
  try {
    await fsp.writeFile(tmp, renderEncodeInfo(i), { mode: 0o644, flag: 'wx' });
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw ioError(e, file, 'cannot write the encode info file');
  }
  return file;
}
