/**
 * The preamble of a native snapshot (SPEC §3.2): an optional HLC header
 * (EKVTHLC1, or EKVTHLC2 with its length), then EKVPBBL1 and lastCommitTS.
 * Bytes are gathered (at most 10 + 65535 + 16) until it is complete; every
 * error names the offset of the field at fault.
 */
import { DecodeError, type ErrorCode } from '../errors.js';
import { FSM_HLC_PREFIX, FSM_HLC_V1, FSM_HLC_V2, FSM_MAGIC, FSM_SST_MAGIC } from './fsm-format.js';

/** Everything the preamble says. */
export interface FsmPreambleInfo {
  /** The HLC header, when the file has one. */
  hlc?: { version: 1 | 2; ceiling: bigint; cutover?: bigint; /** bytes, magic included */ length: number };
  lastCommitTs: bigint;
  /** Byte offset of the first entry. */
  dataOffset: number;
}

const KNOWN_MAGICS = [FSM_MAGIC, FSM_SST_MAGIC, FSM_HLC_V1, FSM_HLC_V2];

function fail(code: ErrorCode, detail: string, offset: number): DecodeError {
  return new DecodeError(code, detail, { offset });
}

export class FsmPreambleReader {
  /** Set once the preamble is complete. */
  info: FsmPreambleInfo | undefined;
  private pre: Buffer = Buffer.allocUnsafe(32);
  private preLen = 0;

  /**
   * Takes preamble bytes from chunk[i…]; returns the index after the last
   * one used (info is set once the preamble is complete). Throws a
   * DecodeError on a bad preamble.
   */
  take(chunk: Buffer, i: number): number {
    for (;;) {
      const need = this.step().need;
      if (need === 0) {
        this.info = this.parse();
        this.pre = Buffer.alloc(0);
        this.preLen = 0;
        return i;
      }
      if (this.pre.length < need) {
        const grown = Buffer.allocUnsafe(Math.max(need, this.pre.length * 2));
        this.pre.copy(grown, 0, 0, this.preLen);
        this.pre = grown;
      }
      const take = Math.min(need - this.preLen, chunk.length - i);
      chunk.copy(this.pre, this.preLen, i, i + take);
      this.preLen += take;
      i += take;
      if (this.preLen < need) return i;
    }
  }

  /** The error for an input that ends (after eof bytes) before the preamble is complete. */
  truncated(eof: number): DecodeError {
    const { field, at } = this.step();
    if (this.preLen < 8) {
      const got = this.pre.toString('latin1', 0, this.preLen);
      if (!KNOWN_MAGICS.some((m) => m.startsWith(got))) {
        return fail('ERR_SNAPSHOT_BAD_MAGIC', `not a native snapshot: input is ${this.preLen} bytes, ${printableMagic(this.pre, 0, this.preLen)}`, 0);
      }
      return fail(
        'ERR_SNAPSHOT_TRUNCATED',
        this.preLen === 0
          ? 'truncated snapshot: the input is empty (expected the snapshot magic)'
          : `truncated snapshot: input ends at byte offset ${eof} inside the snapshot magic`,
        0,
      );
    }
    return fail('ERR_SNAPSHOT_TRUNCATED', `truncated snapshot: the ${field} starting at this offset is cut off by the end of input at byte offset ${eof}`, at);
  }

  /**
   * Interprets the bytes held so far: need is 0 when complete, else the
   * total number of bytes needed to go on (field and at name what they
   * hold). Throws on a bad preamble.
   */
  private step(): { need: number; field: string; at: number } {
    const p = this.pre;
    const len = this.preLen;
    if (len < 8) return { need: 8, field: 'snapshot magic', at: 0 };
    const m = p.toString('latin1', 0, 8);
    let inner = 0;
    if (m === FSM_HLC_V1) {
      if (len < 16) return { need: 16, field: 'EKVTHLC1 header', at: 8 };
      inner = 16;
    } else if (m === FSM_HLC_V2) {
      if (len < 10) return { need: 10, field: 'EKVTHLC2 header length', at: 8 };
      const hl = p.readUInt16BE(8);
      if (hl < 16) {
        throw fail(
          'ERR_SNAPSHOT_CORRUPT',
          `corrupt EKVTHLC2 header: its length field (this offset) is ${hl}, less than the 16 bytes of ceiling and cutover`,
          8,
        );
      }
      if (len < 10 + hl) return { need: 10 + hl, field: 'EKVTHLC2 header', at: 10 };
      inner = 10 + hl;
    } else if (m.startsWith(FSM_HLC_PREFIX)) {
      throw fail(
        'ERR_SNAPSHOT_UNKNOWN_HEADER',
        `unknown snapshot header ${JSON.stringify(m)} (known: EKVTHLC1, EKVTHLC2)`,
        0,
      );
    }
    if (len < inner + 8) return { need: inner + 8, field: 'snapshot magic', at: inner };
    const m2 = p.toString('latin1', inner, inner + 8);
    if (m2 === FSM_SST_MAGIC) {
      throw fail(
        'ERR_SNAPSHOT_UNSUPPORTED',
        'this is an SST-ingest snapshot (EKVSSTI1, written with ELASTICKV_PEBBLE_SST_INGEST_SNAPSHOT=true); ' +
          'SST-ingest snapshots are not supported, only EKVPBBL1 snapshot streams',
        inner,
      );
    }
    if (m2 !== FSM_MAGIC) {
      throw fail(
        'ERR_SNAPSHOT_BAD_MAGIC',
        inner === 0
          ? `not a native snapshot: bad magic ${printableMagic(p, 0, 8)} (expected EKVPBBL1, EKVTHLC1/2 or EKVSSTI1)`
          : `bad magic ${printableMagic(p, inner, inner + 8)} (this offset) after the ${m} header (expected EKVPBBL1)`,
        inner,
      );
    }
    if (len < inner + 16) return { need: inner + 16, field: 'lastCommitTS', at: inner + 8 };
    return { need: 0, field: '', at: inner + 16 };
  }

  /** The fields of a complete preamble. */
  private parse(): FsmPreambleInfo {
    const p = this.pre;
    const m = p.toString('latin1', 0, 8);
    let inner = 0;
    let hlc: FsmPreambleInfo['hlc'];
    if (m === FSM_HLC_V1) {
      inner = 16;
      hlc = { version: 1, ceiling: p.readBigUInt64BE(8), length: 16 };
    } else if (m === FSM_HLC_V2) {
      inner = 10 + p.readUInt16BE(8);
      hlc = { version: 2, ceiling: p.readBigUInt64BE(10), cutover: p.readBigUInt64BE(18), length: inner };
    }
    const lastCommitTs = p.readBigUInt64LE(inner + 8);
    const dataOffset = inner + 16;
    return hlc ? { hlc, lastCommitTs, dataOffset } : { lastCommitTs, dataOffset };
  }
}

function printableMagic(b: Buffer, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    s += c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x22 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"`;
}
