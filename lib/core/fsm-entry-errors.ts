/**
 * The errors of a native snapshot entry that cannot be decoded (SPEC §8):
 * length fields out of range, encrypted or reserved flags, an entry cut off
 * by the end of input. Each names the
 * byte offset of the field at fault (and the key, once it is known).
 */
import { DecodeError, type ErrorCode } from '../errors.js';
import { FSM_MAX_KEY_LEN, FSM_MAX_VALUE_LEN, FSM_VALUE_HEADER_LEN } from './fsm-format.js';

function fail(code: ErrorCode, detail: string, offset: number, key?: Buffer): DecodeError {
  return new DecodeError(code, detail, key === undefined ? { offset } : { offset, key });
}

function u64le(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** keyLen (lo, hi: its u32 halves) is below 8 or above 1 MiB + 8. */
export function badKeyLength(lo: number, hi: number, entry: number): DecodeError {
  const len = u64le(lo, hi);
  const why =
    len < 8n
      ? `is ${len}, shorter than the 8-byte commit timestamp every encoded key ends with`
      : `claims ${len} bytes, more than the ${FSM_MAX_KEY_LEN} allowed (1 MiB + 8)`;
  return fail('ERR_SNAPSHOT_CORRUPT', `corrupt entry: the key length field at the start of the entry (this offset) ${why}`, entry);
}

/** valLen (lo, hi) of the entry at `entry` is below 9 or above 256 MiB + 43; field is its offset. */
export function badValueLength(lo: number, hi: number, field: number, entry: number): DecodeError {
  const len = u64le(lo, hi);
  const why =
    len < BigInt(FSM_VALUE_HEADER_LEN)
      ? `is ${len}, shorter than the 9-byte flags and expireAt header every value starts with`
      : `claims ${len} bytes, more than the ${FSM_MAX_VALUE_LEN} allowed (256 MiB + 43)`;
  return fail(
    'ERR_SNAPSHOT_CORRUPT',
    `corrupt entry: the value length field (this offset) of the entry at byte offset ${entry} ${why}`,
    field,
  );
}

/** The flags byte at `field` has encryption or reserved bits set. */
export function badFlags(flags: number, field: number, entry: number, key: Buffer): DecodeError {
  const hex = `0x${flags.toString(16).padStart(2, '0')}`;
  const where = `the flags byte (this offset) of the entry at byte offset ${entry}`;
  const enc = (flags >> 1) & 3;
  if (enc === 1) {
    return fail(
      'ERR_SNAPSHOT_ENCRYPTED',
      `encrypted entry: ${where} is ${hex}, encryption state 1; encrypted snapshots cannot be decoded`,
      field,
      key,
    );
  }
  if (enc !== 0) {
    return fail('ERR_SNAPSHOT_RESERVED_FLAGS', `${where} is ${hex}: reserved encryption state ${enc}`, field, key);
  }
  return fail('ERR_SNAPSHOT_RESERVED_FLAGS', `${where} is ${hex}: reserved bits 3-7 are set`, field, key);
}

/** The input ends `rest` bytes after an entry boundary: neither a whole entry nor a footer. */
export function truncatedTail(rest: number, entry: number): DecodeError {
  return fail(
    'ERR_SNAPSHOT_TRUNCATED',
    `truncated snapshot: the last ${rest} bytes (from this offset, an entry boundary) are neither a whole entry ` +
      '(its key length alone takes 8 bytes) nor a 4-byte CRC-32C footer',
    entry,
  );
}

/** The entry at `entry` is cut off by the end of input at `eof`, in `what` (e.g. "its 12-byte key (3 bytes present)"). */
export function truncatedEntry(eof: number, what: string, entry: number): DecodeError {
  return fail('ERR_SNAPSHOT_TRUNCATED', `truncated snapshot: the entry starting at this offset is cut off by the end of input at byte offset ${eof}, in ${what}`, entry);
}
