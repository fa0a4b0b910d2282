/**
 * stderr output of the CLI: warnings, errors and the final summary, as text
 * lines or one JSON object per line (--log-format json).
 */
import type { Summary } from '../decode.js';
import type { Warning } from '../types.js';

export type LogFormat = 'text' | 'json';

export class Logger {
  constructor(
    private readonly format: LogFormat,
    private readonly write: (line: string) => void,
    private readonly quiet = false,
  ) {}

  warn(w: Warning): void {
    if (this.format === 'json') return this.write(JSON.stringify({ level: 'warn', ...plain(w) }));
    const { event, ...fields } = w;
    const text = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    this.write(`ekv-s3-decode: warning ${event}: ${text}`);
  }

  error(code: string, message: string): void {
    if (this.format === 'json') return this.write(JSON.stringify({ level: 'error', code, message }));
    this.write(`ekv-s3-decode: error ${code}: ${message}`);
  }

  note(message: string): void {
    if (this.format === 'json') return this.write(JSON.stringify({ level: 'info', message }));
    this.write(`ekv-s3-decode: ${message}`);
  }

  summary(s: Summary): void {
    if (this.quiet) return;
    const seconds = s.elapsedMs / 1000;
    const mbps = seconds > 0 ? s.bodyBytes / 1e6 / seconds : 0;
    if (this.format === 'json') {
      this.write(JSON.stringify({ level: 'info', event: 'summary', ...s, seconds, body_mb_per_s: Number(mbps.toFixed(1)) }));
      return;
    }
    const r = s.records;
    const s3 = Object.values(r.s3).reduce((a, b) => a + b, 0);
    this.write(
      `ekv-s3-decode: ${s.objects} objects in ${s.buckets} buckets, ${s.bodyBytes} body bytes, ${s.files} files (${s.bytesWritten} bytes)` +
        `${s.skipped ? `, ${s.skipped} skipped` : ''}${s.etagUnverifiable ? `, ${s.etagUnverifiable} etag_unverifiable` : ''}; records: ${s3} S3, ${r.nonS3} non-S3, ${r.ignored} ignored, ` +
        `${r.superseded} superseded, ${r.tombstones} tombstones; ${seconds.toFixed(2)} s, ${mbps.toFixed(1)} MB/s`,
    );
  }
}

/** JSON-safe copy of a warning (bigints as numbers when safe, else strings). */
function plain(w: Warning): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(w)) {
    out[k] = typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v;
  }
  return out;
}
