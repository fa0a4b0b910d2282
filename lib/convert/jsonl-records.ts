/**
 * JSON lines → SnapshotRecords for the JSONL → native converter: framed
 * by LineFramer, parsed by parseJsonlLine (SPEC §3.1), plus two things only
 * the converter needs: a tombstone keeps the value its line gives (so
 * native → JSONL → native is exact), and a native snapshot given by
 * mistake is named as such.
 */
import { decodeBase64Strict } from '../core/base64.js';
import { looksLikeFsm } from '../core/fsm-format.js';
import { parseJsonlLine } from '../core/jsonl-decoder.js';
import { LineFramer } from '../core/line-framer.js';
import { DecodeError } from '../errors.js';
import type { SnapshotRecord } from '../types.js';

export class JsonlRecords {
  private readonly framer = new LineFramer();
  private line = 0;
  private readonly onLine = (bytes: Buffer): void => this.parseLine(bytes);

  /** emit receives each record, synchronously, in input order. */
  constructor(private readonly emit: (rec: SnapshotRecord) => void) {}

  write(chunk: Buffer): void {
    this.framer.write(chunk, this.onLine);
  }

  /** The input ended: its last line, if unterminated, is parsed now. */
  end(): void {
    this.framer.end(this.onLine);
  }

  private parseLine(bytes: Buffer): void {
    const line = ++this.line;
    let rec: SnapshotRecord | null;
    try {
      rec = parseJsonlLine(bytes, line);
    } catch (err) {
      if (line === 1 && looksLikeFsm(bytes)) {
        throw new DecodeError('ERR_JSONL_LINE', 'the input is a native snapshot, not JSON lines (convert it to JSONL without --to fsm)', { line });
      }
      throw err;
    }
    if (rec === null) return;
    if (rec.tombstone && rec.value === null) rec.value = tombstoneBody(bytes, line);
    this.emit(rec);
  }
}

/**
 * The body a tombstone line gives, if any. parseJsonlLine validates a
 * tombstone's value and then drops it (readers ignore it, §3.1); the
 * converter keeps it. Tombstones are rare, so the line is simply parsed
 * again.
 */
function tombstoneBody(bytes: Buffer, line: number): Buffer | null {
  const obj = JSON.parse(bytes.toString('utf8')) as { value?: unknown };
  if (typeof obj.value !== 'string') return null;
  const v = decodeBase64Strict(obj.value, 'value', line);
  return v.length === 0 ? null : v;
}
