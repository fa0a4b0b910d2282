import test from 'ava';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { DecodeError } from '../lib/errors.js';
import { createS3Client, httpStatus, isNotFound, s3Error } from '../lib/s3/client.js';

function sdkError(name: string, status: number | undefined, message: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: status === undefined ? {} : { httpStatusCode: status }, message });
}

test('createS3Client: checksums only when required, the endpoint and path style as given', async (t) => {
  const c = createS3Client({ endpoint: 'http://127.0.0.1:1', pathStyle: true, region: 'us-east-1' });
  t.teardown(() => c.destroy());
  t.is(await c.config.requestChecksumCalculation(), 'WHEN_REQUIRED');
  t.is(await c.config.responseChecksumValidation(), 'WHEN_REQUIRED');
  t.true(c.config.forcePathStyle);
  const ep = await c.config.endpoint!();
  t.is(ep.hostname, '127.0.0.1');
  t.is(ep.port, 1);
});

test('s3Error: one line, ERR_S3_REQUEST, operation, location, server code and status', (t) => {
  const e = s3Error(sdkError('AccessDenied', 403, 'Access\n Denied'), 'PutObject', 'b', 'k/x');
  t.true(e instanceof DecodeError);
  t.is(e.code, 'ERR_S3_REQUEST');
  t.is(e.message, 'path s3://b/k/x: PutObject failed: AccessDenied (HTTP 403): access denied (Access Denied)');
  const net = s3Error(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'GetObject', 'b', 'k');
  t.is(net.message, 'path s3://b/k: GetObject failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');
  const mine = new DecodeError('ERR_S3_UPLOAD_MISMATCH', 'x');
  t.is(s3Error(mine, 'PutObject', 'b', 'k'), mine);
});

test('httpStatus and isNotFound', (t) => {
  t.is(httpStatus(sdkError('NoSuchKey', 404, 'x')), 404);
  t.true(isNotFound(sdkError('NotFound', 404, 'x')));
  t.false(isNotFound(sdkError('AccessDenied', 403, 'x')));
  t.is(httpStatus(new Error('plain')), undefined);
});
