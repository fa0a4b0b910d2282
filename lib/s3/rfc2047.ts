/**
 * S3 user metadata travels in HTTP headers, which carry ASCII only: a value
 * with other characters (or control characters) is sent as an RFC 2047
 * encoded word, `=?UTF-8?B?<base64>?=`, the form S3 itself uses when it
 * returns such values.
 */

/** Whether v can be sent as is: printable ASCII and spaces/tabs only. */
function headerSafe(v: string): boolean {
  return /^[\x20-\x7e\t]*$/.test(v);
}

/** v, or its RFC 2047 B-encoding when it is not plain ASCII. Also encodes a value that already looks encoded, so it is not decoded by a reader. */
export function encodeMetadataValue(v: string): string {
  if (headerSafe(v) && !/=\?.*\?=/.test(v)) return v;
  return `=?UTF-8?B?${Buffer.from(v, 'utf8').toString('base64')}?=`;
}
