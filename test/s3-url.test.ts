import test from 'ava';
import { DecodeError } from '../lib/errors.js';
import { formatS3Url, isS3Url, parseS3Url, prefixDir } from '../lib/s3/url.js';

test('parseS3Url splits bucket and key at the first slash, keeping the key as given', (t) => {
  t.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', key: '' });
  t.deepEqual(parseS3Url('s3://my-bucket/'), { bucket: 'my-bucket', key: '' });
  t.deepEqual(parseS3Url('s3://b.x-1/a/b/c.fsm'), { bucket: 'b.x-1', key: 'a/b/c.fsm' });
  t.deepEqual(parseS3Url('s3://bkt/ä //x'), { bucket: 'bkt', key: 'ä //x' });
});

test('parseS3Url refuses what is not an s3:// location or has a bad bucket name (ERR_USAGE)', (t) => {
  for (const bad of ['/tmp/x', 'S3://b/k', 's3://', 's3:///k', 's3://Upper/k', 's3://a/k', 's3://-bad/k']) {
    const e = t.throws(() => parseS3Url(bad), undefined, bad);
    t.true(e instanceof DecodeError && e.code === 'ERR_USAGE', bad);
  }
});

test('isS3Url, prefixDir, formatS3Url', (t) => {
  t.true(isS3Url('s3://b/k'));
  t.false(isS3Url('./s3://b'));
  t.is(prefixDir(''), '');
  t.is(prefixDir('a'), 'a/');
  t.is(prefixDir('a/b//'), 'a/b/');
  t.is(formatS3Url('b', 'k/x'), 's3://b/k/x');
});
