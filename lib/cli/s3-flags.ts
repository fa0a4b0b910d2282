/** The --s3-* flags shared by the commands that speak S3 (SPEC §11). */
import type { S3Options } from '../s3/client.js';

/** parseArgs option definitions of the S3 flags. */
export const S3_FLAG_OPTIONS = {
  's3-endpoint': { type: 'string' },
  's3-path-style': { type: 'boolean' },
  's3-concurrency': { type: 'string' },
} as const;

/** The S3 options the flags give, or a usage message. */
export function parseS3Flags(values: { 's3-endpoint'?: string; 's3-path-style'?: boolean; 's3-concurrency'?: string }): S3Options | string {
  // The SDK warns on every run under Node < 22 of its own future plans; this tool supports Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const s3: S3Options = {};
  if (values['s3-endpoint'] !== undefined) {
    let url: URL;
    try {
      url = new URL(values['s3-endpoint']);
    } catch {
      return `--s3-endpoint must be a URL (http://host:port), not ${values['s3-endpoint']}`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `--s3-endpoint must be an http:// or https:// URL, not ${values['s3-endpoint']}`;
    s3.endpoint = values['s3-endpoint'];
  }
  if (values['s3-path-style']) s3.pathStyle = true;
  if (values['s3-concurrency'] !== undefined) {
    const n = Number(values['s3-concurrency']);
    if (!/^[0-9]+$/.test(values['s3-concurrency']) || n < 1 || n > 64) return `--s3-concurrency must be an integer from 1 to 64, not ${values['s3-concurrency']}`;
    s3.concurrency = n;
  }
  return s3;
}
