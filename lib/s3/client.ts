/**
 * The S3 client (AWS SDK for JavaScript v3) configured the usual way:
 * credentials and region from the SDK's environment/profile chain, an
 * explicit endpoint and path-style addressing for non-AWS servers. Also the
 * one translation of SDK failures into DecodeErrors: a message naming the
 * operation, the s3:// location, the server's code and HTTP status — and
 * nothing of the request's credentials (the SDK's error text holds none).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DecodeError } from '../errors.js';
import { formatS3Url } from './url.js';

/** How to reach the S3 service (CLI: --s3-endpoint, --s3-path-style, --s3-concurrency). */
export interface S3Options {
  /** e.g. http://127.0.0.1:9000; absent: AWS's endpoint for the region. */
  endpoint?: string;
  /** Path-style URLs (http://host/bucket/key), which most non-AWS servers want. */
  pathStyle?: boolean;
  /** Region; absent: the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
}

/** The default of --s3-concurrency. */
export const DEFAULT_S3_CONCURRENCY = 4;

/** Attempts per request (the SDK's standard retry mode: backoff, retry on throttling, 5xx and network errors). */
const MAX_ATTEMPTS = 4;

/** A client for opts. */
export function createS3Client(opts: S3Options = {}): S3Client {
  return new S3Client({
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    forcePathStyle: opts.pathStyle ?? false,
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'standard',
    // Recent SDKs send aws-chunked bodies with trailing CRC checksums by
    // default; servers that do not know them fail the request, or worse
    // store the framing as the object's bytes. Checksums only where the API
    // requires them; uploads carry Content-MD5 instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

/** The HTTP status of a failed SDK call, when the server answered. */
export function httpStatus(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

/** Whether a failed call means the object or bucket is absent (404). */
export function isNotFound(err: unknown): boolean {
  const e = err as SdkError | null;
  return httpStatus(err) === 404 || e?.name === 'NotFound' || e?.name === 'NoSuchKey';
}

/**
 * An SDK failure as ERR_S3_REQUEST: `<operation> s3://bucket/key: <code>
 * (HTTP <status>): <message>`, on one line.
 */
export function s3Error(err: unknown, operation: string, bucket: string, key: string): DecodeError {
  if (err instanceof DecodeError) return err;
  const e = (err ?? {}) as SdkError;
  const status = httpStatus(err);
  const name = e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error');
  let message = (e.message ?? String(err)).replace(/\s+/g, ' ').trim();
  // The SDK names a body-less error by its status ("UnknownError"): say what the status means.
  if (name === 'NoSuchBucket' || (status === 404 && operation !== 'GetObject' && operation !== 'HeadObject' && /bucket/i.test(message))) message = `the bucket does not exist (${message})`;
  else if (status === 403) message = `access denied (${message})`;
  const what = status !== undefined ? `${name} (HTTP ${status})` : name;
  return new DecodeError('ERR_S3_REQUEST', `${operation} failed: ${what}: ${message}`, { path: formatS3Url(bucket, key) }, 'run', { cause: err });
}
