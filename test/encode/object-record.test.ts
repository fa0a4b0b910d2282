import test from 'ava';
import { packObject, unpackObject } from '../../lib/encode/object-record.js';

test('an object record survives packing: u32 LE lengths of bucket, key, body path, then the manifest', (t) => {
  const o = { bucket: Buffer.from('b'), key: Buffer.from([0xff, 0]), bodyPath: Buffer.from('s3/b/x'), manifest: Buffer.from('{}') };
  const packed = packObject(o);
  t.deepEqual(packed, Buffer.from('01000000' + '62' + '02000000' + 'ff00' + '06000000' + Buffer.from('s3/b/x').toString('hex') + '7b7d', 'hex'));
  t.deepEqual(unpackObject(packed), o);
});
