/**
 * stderr output of the CLI: warnings, errors and the final summary, as text
 * lines or one JSON object per line (--log-format json).
 */
import type { Summary } from '../decode.js';
import type { Warning } from '../types.js';
import { count } from './common.js';

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
      `ekv-s3-decode: ${count(s.objects, 'object')} in ${count(s.buckets, 'bucket')}, ${count(s.bodyBytes, 'body byte')}, ${count(s.files, 'file')} (${count(s.bytesWritten, 'byte')})` +
        `${s.skipped ? `, ${s.skipped} skipped` : ''}${s.etagUnverifiable ? `, ${s.etagUnverifiable} etag_unverifiable` : ''}; records: ${s3} S3, ${r.nonS3} non-S3, ${r.ignored} ignored, ` +
        `${r.unknownS3 ? `${r.unknownS3} unknown S3, ` : ''}${r.filtered} filtered, ` +
        `${r.superseded} superseded, ${count(r.tombstones, 'tombstone')}${footerNote(s)}; ${seconds.toFixed(2)} s, ${mbps.toFixed(1)} MB/s`,
    );
  }
}

/** Whether a native snapshot's integrity was checked (JSON lines carry no checksum). */
function footerNote(s: Summary): string {
  if (s.footerVerified === undefined) return '';
  return s.footerVerified ? '; CRC-32C footer verified' : '; no CRC-32C footer (unverified)';
}

/** JSON-safe copy of a warning (bigints as numbers when safe, else strings). */
function plain(w: Warning): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(w)) {
    out[k] = typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v;
  }
  return out;
}
