/**
 * `s3://BUCKET[/KEY]` locations (SPEC §11). The key part is everything after
 * the first '/' after the bucket, kept as given (keys may hold any byte the
 * shell can pass; an empty key is "no prefix").
 */
import { DecodeError } from '../errors.js';

/** A parsed `s3://BUCKET[/KEY]`. */
export interface S3Location {
  bucket: string;
  /** The key (an input object) or the prefix (an output), '' when absent. */
  key: string;
}

/** Whether s is an `s3://` location (anything else is a local path). */
export function isS3Url(s: string): boolean {
  return s.startsWith('s3://');
}

// S3's bucket-name rules, loosely: what a path-style or virtual-host URL can carry.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$/;

/** Parses `s3://BUCKET[/KEY]`; ERR_USAGE when it is not one. */
export function parseS3Url(s: string): S3Location {
  if (!isS3Url(s)) throw new DecodeError('ERR_USAGE', `not an s3:// location: ${s}`);
  const rest = s.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET_NAME.test(bucket)) throw new DecodeError('ERR_USAGE', `bad bucket name in ${s}: ${JSON.stringify(bucket)}`);
  return { bucket, key };
}

/** The prefix as a key prefix: '' or ending in exactly one '/'. */
export function prefixDir(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/** `s3://bucket/key`, for messages. */
export function formatS3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
