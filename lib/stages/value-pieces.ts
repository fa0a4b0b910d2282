/**
 * Values larger than a block travel in pieces (SPEC §9: no body is held
 * whole). A reader asked for `valuePieces` emits such a record with `value`
 * null and `valueLength` set, then the value's bytes as ValuePiece items
 * (lib/types.ts), so a 200 MiB blob chunk costs a block or two of memory,
 * not 200 MiB. Every stage before the spiller lets pieces through in order,
 * right behind their record; one that drops a record drops its pieces with
 * it (PieceGate).
 */
import { releaseBlock } from '../io/shared-blocks.js';
import type { ValuePiece } from '../types.js';

/** Whether a stream item is a ValuePiece (and not a record). */
export function isValuePiece(item: unknown): item is ValuePiece {
  return typeof item === 'object' && item !== null && (item as { kind?: unknown }).kind === 'piece' && Buffer.isBuffer((item as { bytes?: unknown }).bytes);
}

/** Passes or drops the pieces that follow a record, as the record itself was passed or dropped. */
export class PieceGate {
  private passing = false;

  /** The record just seen was passed on (true) or dropped (false): its pieces will be too. */
  follow(passed: boolean): void {
    this.passing = passed;
  }

  /** The piece to pass on, or undefined when its record was dropped (its block is then released). */
  piece(p: ValuePiece): ValuePiece | undefined {
    if (this.passing) return p;
    releaseBlock(p.bytes);
    return undefined;
  }
}
