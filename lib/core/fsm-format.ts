/**
 * The constants of elastickv's native snapshot stream (SPEC §3.2), shared
 * by its decoder and encoder, and the sniffing test that tells it from
 * JSON lines.
 *
 *   [HLC header: "EKVTHLC1" ceiling(u64 BE)
 *              | "EKVTHLC2" len(u16 BE) ceiling(u64 BE) cutover(u64 BE) (len−16 bytes)]
 *   "EKVPBBL1" lastCommitTS(u64 LE)
 *   repeated: keyLen(u64 LE) encodedKey valLen(u64 LE) encodedValue
 *   [CRC-32C footer (u32 BE) over every byte before it]
 */

export const FSM_MAGIC = 'EKVPBBL1';
export const FSM_SST_MAGIC = 'EKVSSTI1';
export const FSM_HLC_PREFIX = 'EKVTHLC';
export const FSM_HLC_V1 = 'EKVTHLC1';
export const FSM_HLC_V2 = 'EKVTHLC2';

/** Largest accepted keyLen: 1 MiB user key + 8-byte timestamp suffix. */
export const FSM_MAX_KEY_LEN = (1 << 20) + 8;
/** Largest accepted valLen: 256 MiB + 43. */
export const FSM_MAX_VALUE_LEN = (256 << 20) + 43;
/** flags byte (1) + expireAt (8) before the value body. */
export const FSM_VALUE_HEADER_LEN = 9;

/**
 * True when `prefix` (the first bytes of an input) starts like a native
 * snapshot (SPEC §2): "EKVPBBL1", "EKVTHLC" or "EKVSSTI1". Needs 8 bytes
 * (7 suffice for "EKVTHLC").
 */
export function looksLikeFsm(prefix: Uint8Array): boolean {
  const s = Buffer.from(prefix.buffer, prefix.byteOffset, Math.min(prefix.length, 8)).toString('latin1');
  return s === FSM_MAGIC || s === FSM_SST_MAGIC || s.startsWith(FSM_HLC_PREFIX);
}
