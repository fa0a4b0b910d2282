/**
 * The progress line on stderr: bytes read (of total when known), records/s,
 * objects, MB/s of input, ETA. On a terminal it redraws one line; elsewhere
 * (forced with --progress) it prints a line at most every few seconds.
 */
import type { Progress } from '../decode.js';

export class ProgressLine {
  private lastPrint = 0;
  private drawn = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly tty: boolean,
    private readonly json: boolean,
  ) {}

  update(p: Progress): void {
    const now = Date.now();
    if (!this.tty && now - this.lastPrint < 5000) return;
    this.lastPrint = now;
    if (this.json) {
      this.write(`${JSON.stringify({ level: 'info', event: 'progress', ...p })}\n`);
      return;
    }
    const line = formatProgress(p);
    if (this.tty) {
      this.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.write(`${line}\n`);
    }
  }

  /** Clears the redrawn line before other output (summary, errors). */
  done(): void {
    if (this.drawn) this.write('\r\x1b[2K');
    this.drawn = false;
  }
}

export function formatProgress(p: Progress): string {
  const s = Math.max(p.elapsedMs, 1) / 1000;
  const mbps = p.bytesRead / 1e6 / s;
  const read = p.totalBytes ? `${mb(p.bytesRead)}/${mb(p.totalBytes)} MB (${((100 * p.bytesRead) / Math.max(p.totalBytes, 1)).toFixed(1)}%)` : `${mb(p.bytesRead)} MB`;
  const eta = p.totalBytes && p.bytesRead < p.totalBytes && mbps > 0 ? `, ETA ${Math.ceil((p.totalBytes - p.bytesRead) / 1e6 / mbps)} s` : '';
  return `ekv-s3-decode: read ${read}, ${Math.round(p.records / s)} records/s, ${p.objects} objects, ${mbps.toFixed(1)} MB/s${eta}`;
}

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}
