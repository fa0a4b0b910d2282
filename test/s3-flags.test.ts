import test from 'ava';
import { parseS3Flags } from '../lib/cli/s3-flags.js';

test('the --s3-* flags give S3 options', (t) => {
  t.deepEqual(parseS3Flags({}), {});
  t.deepEqual(parseS3Flags({ 's3-endpoint': 'http://127.0.0.1:9000', 's3-path-style': true, 's3-concurrency': '8' }), { endpoint: 'http://127.0.0.1:9000', pathStyle: true, concurrency: 8 });
});

test('bad values are usage messages naming the flag', (t) => {
  t.regex(parseS3Flags({ 's3-endpoint': 'not a url' }) as string, /--s3-endpoint must be a URL/);
  t.regex(parseS3Flags({ 's3-endpoint': 'ftp://x' }) as string, /http:\/\/ or https:\/\//);
  for (const n of ['0', '-1', '1.5', 'x', '65']) t.regex(parseS3Flags({ 's3-concurrency': n }) as string, /--s3-concurrency must be an integer from 1 to 64/, n);
});
