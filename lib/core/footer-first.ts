/**
 * The CRC-32C footer speaks for the whole file (SPEC §3.2, issue 15 item 8):
 * a damaged byte in a snapshot that has a footer is reported as
 * ERR_SNAPSHOT_CRC_MISMATCH, not as whatever record error it causes first.
 *
 * So a record error does not end the reading: the rest of the input (file
 * or pipe) is only fed to the CRC, and at the end the footer decides.
 * - The last 4 bytes are the CRC-32C of everything before them: the file is
 *   as it was written, the record error is real and is reported.
 * - They are not, and the file starts with an HLC header: node files always
 *   end with a footer, so the file is damaged (or cut short): CRC mismatch,
 *   naming the record error found first.
 * (An input that ends inside an entry has lost its footer: that stays
 * ERR_SNAPSHOT_TRUNCATED.)
 * - Otherwise (a bare stream) a footer cannot be told from data: the record
 *   error stands.
 */
import { DecodeError } from '../errors.js';
import type { SnapshotRecord } from '../types.js';
import { createReadStream } from 'node:fs';
import { FsmDecoder } from './fsm-decoder.js';

export interface FooterFirstDecoder {
  write(chunk: Buffer, emit: (rec: SnapshotRecord) => void): void;
  end(): void;
}

export function footerFirst(fsm: FsmDecoder): FooterFirstDecoder {
  let failed: DecodeError | undefined;
  const hold = (e: unknown): void => {
    if (!(e instanceof DecodeError) || e.code === 'ERR_SNAPSHOT_CRC_MISMATCH') throw e;
    failed = e;
  };
  return {
    write(chunk, emit) {
      if (failed) return fsm.drain(chunk);
      try {
        fsm.write(chunk, emit);
      } catch (e) {
        hold(e);
      }
    },
    end() {
      // An error found at the end itself (EOF inside an entry) is a truncation:
      // its footer is gone, so it has nothing to say.
      if (!failed) return fsm.end();
      throw verdict(failed, fsm, fsm.preamble?.hlc !== undefined);
    },
  };
}

/** The error to report for `first`, once `fsm` has seen (or drained) the whole input. */
function verdict(first: DecodeError, fsm: FsmDecoder, hlcHeader: boolean): DecodeError {
  if (fsm.footerMatches() || !hlcHeader) return first;
  return new DecodeError(
    'ERR_SNAPSHOT_CRC_MISMATCH',
    `the file's last 4 bytes are not the CRC-32C footer of the ${fsm.bytesConsumed - 4} bytes before them: ` +
      `the snapshot is corrupt or truncated (first problem found: ${first.code}: ${first.message})`,
    { offset: Math.max(0, fsm.bytesConsumed - 4) },
    'run',
    { cause: first },
  );
}

/**
 * For a record error found after the reader (a damaged key is a malformed
 * key to the classifier): the same verdict, from the input file read again.
 * (Input from a pipe cannot be read again; there the reader's own errors are
 * covered, see footerFirst.)
 */
export async function footerVerdictOfFile(file: string, first: DecodeError): Promise<DecodeError> {
  const fsm = new FsmDecoder();
  let hlcHeader = false;
  try {
    for await (const chunk of createReadStream(file)) {
      if (fsm.bytesConsumed === 0) hlcHeader = (chunk as Buffer).subarray(0, 7).toString('latin1') === 'EKVTHLC';
      fsm.drain(chunk as Buffer);
    }
  } catch {
    // Unreadable now: the first error stands.
    return first;
  }
  return verdict(first, fsm, hlcHeader);
}
