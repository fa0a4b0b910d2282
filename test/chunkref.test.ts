import test from 'ava';
import { decodeChunkRef } from '../lib/core/chunkref.js';
import { DecodeError } from '../lib/errors.js';

/** Why v does not decode (the ERR_S3_INVALID_CHUNKREF detail), or undefined when it does. */
function rejection(v: Buffer): string | undefined {
  try {
    decodeChunkRef(v);
    return undefined;
  } catch (e) {
    if (!(e instanceof DecodeError) || e.code !== 'ERR_S3_INVALID_CHUNKREF') throw e;
    return e.detail;
  }
}

// SPEC §5.4: chunkref value = byte version (1 or 2) ‖ 32-byte SHA-256 ‖
// u64 size ‖ u16 BE sourcePeerLen ‖ sourcePeer; version 2 adds u16 BE
// replicaCount then, per replica, u16 BE len ‖ nodeID ‖ u16 BE len ‖
// address; the value must be consumed exactly. (§4: u64 is big-endian.)

const DIGEST_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const DIGEST = Buffer.from(DIGEST_HEX, 'hex');
const SIZE = Buffer.from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]); // 0x0102030405060708

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const str = (s: string | Buffer): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([u16(b.length), b]);
};

function v1(peer: string | Buffer = 'n1', size = SIZE): Buffer {
  return Buffer.concat([Buffer.from([1]), DIGEST, size, str(peer)]);
}

function v2(peer: string, replicas: Array<[string, string]>): Buffer {
  return Buffer.concat([Buffer.from([2]), DIGEST, SIZE, str(peer), u16(replicas.length), ...replicas.flatMap(([n, a]) => [str(n), str(a)])]);
}

test('v1 decodes: version, lowercase hex digest, big-endian u64 size, source peer, no replicas', (t) => {
  t.deepEqual(decodeChunkRef(v1('node-1')), {
    version: 1,
    digest: DIGEST_HEX,
    size: 0x0102030405060708n,
    sourcePeer: Buffer.from('node-1'),
    replicas: [],
  });
});

test('v1 with an empty source peer', (t) => {
  t.deepEqual(decodeChunkRef(v1('')), { version: 1, digest: DIGEST_HEX, size: 0x0102030405060708n, sourcePeer: Buffer.alloc(0), replicas: [] });
});

test('v1 literal bytes (size 1 MiB, peer "n1")', (t) => {
  const hex = '01' + 'ab'.repeat(32) + '0000000000100000' + '0002' + '6e31';
  t.deepEqual(decodeChunkRef(Buffer.from(hex, 'hex')), {
    version: 1,
    digest: 'ab'.repeat(32),
    size: 1048576n,
    sourcePeer: Buffer.from('n1'),
    replicas: [],
  });
});

test('size covers the whole uint64 range', (t) => {
  const r = decodeChunkRef(v1('p', Buffer.alloc(8, 0xff)));
  t.is(typeof r === 'string' ? r : r.size, 18446744073709551615n);
});

test('v2 with 0 replicas', (t) => {
  t.deepEqual(decodeChunkRef(v2('n1', [])), { version: 2, digest: DIGEST_HEX, size: 0x0102030405060708n, sourcePeer: Buffer.from('n1'), replicas: [] });
});

test('v2 with 1 replica', (t) => {
  t.deepEqual(decodeChunkRef(v2('n1', [['n2', '10.0.0.2:7000']])), {
    version: 2,
    digest: DIGEST_HEX,
    size: 0x0102030405060708n,
    sourcePeer: Buffer.from('n1'),
    replicas: [{ nodeId: Buffer.from('n2'), address: Buffer.from('10.0.0.2:7000') }],
  });
});

test('v2 with 2 replicas (one with empty node id and address)', (t) => {
  t.deepEqual(
    decodeChunkRef(
      v2('n1', [
        ['n2', '10.0.0.2:7000'],
        ['', ''],
      ]),
    ),
    {
      version: 2,
      digest: DIGEST_HEX,
      size: 0x0102030405060708n,
      sourcePeer: Buffer.from('n1'),
      replicas: [
        { nodeId: Buffer.from('n2'), address: Buffer.from('10.0.0.2:7000') },
        { nodeId: Buffer.alloc(0), address: Buffer.alloc(0) },
      ],
    },
  );
});

test('v2 literal bytes with one replica', (t) => {
  const hex = '02' + '00'.repeat(32) + '0000000000000005' + '0000' + '0001' + '0001' + '41' + '0002' + '4243';
  t.deepEqual(decodeChunkRef(Buffer.from(hex, 'hex')), {
    version: 2,
    digest: '00'.repeat(32),
    size: 5n,
    sourcePeer: Buffer.alloc(0),
    replicas: [{ nodeId: Buffer.from('A'), address: Buffer.from('BC') }],
  });
});

test('every truncation point is rejected (v1, v2 with 0, 1, 2 replicas)', (t) => {
  const values = [
    v1('node-1'),
    v1(''),
    v2('n1', []),
    v2('n1', [['n2', 'addr2']]),
    v2('peer', [
      ['n2', 'a2'],
      ['n3', 'a3'],
    ]),
  ];
  for (const full of values) {
    t.is(rejection(full), undefined, 'the full value decodes');
    for (let n = 0; n < full.length; n++) {
      t.not(rejection(full.subarray(0, n)), undefined, `prefix of ${n} of ${full.length} bytes`);
    }
  }
});

test('trailing bytes are rejected (v1 and v2)', (t) => {
  for (const full of [v1('n1'), v1(''), v2('n1', []), v2('n1', [['a', 'b']])]) {
    for (const extra of [Buffer.from([0]), Buffer.from([0, 0]), Buffer.from('xyz')]) {
      t.regex(rejection(Buffer.concat([full, extra])) ?? '(decoded)', new RegExp(`${extra.length} trailing bytes`));
    }
  }
});

test('a v1 value followed by a v2 replica section is rejected (trailing bytes)', (t) => {
  const v1WithReplicas = Buffer.concat([v1('n1'), u16(0)]);
  t.regex(rejection(v1WithReplicas) ?? '(decoded)', /trailing/);
});

test('a v2 value without its replica count is rejected', (t) => {
  const v2NoCount = Buffer.concat([Buffer.from([2]), DIGEST, SIZE, str('n1')]);
  t.not(rejection(v2NoCount), undefined);
});

test('a replica count larger than the replicas present is rejected', (t) => {
  const full = v2('n1', [['n2', 'a2']]);
  // Patch the count (right after version 1 + digest 32 + size 8 + peer 2+2) to 2.
  const patched = Buffer.from(full);
  patched.writeUInt16BE(2, 45);
  t.regex(rejection(patched) ?? '(decoded)', /replica 1 truncated/);
});

test('a source peer length beyond the value is rejected', (t) => {
  const full = v1('n1');
  const patched = Buffer.from(full);
  patched.writeUInt16BE(3, 41);
  t.not(rejection(patched), undefined);
});

test('unknown version is rejected', (t) => {
  for (const version of [0, 3, 0x81, 0xff]) {
    const v = Buffer.concat([Buffer.from([version]), DIGEST, SIZE, str('n1')]);
    t.is(rejection(v), `unknown chunkref version ${version}`);
  }
});

test('empty value is rejected', (t) => {
  t.not(rejection(Buffer.alloc(0)), undefined);
});

test('the error carries the context given', (t) => {
  const err = t.throws(() => decodeChunkRef(Buffer.alloc(0), { line: 9, bucket: Buffer.from('b') }), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_S3_INVALID_CHUNKREF');
  t.is(err?.message, 'line 9 bucket b: empty chunkref value');
});

test('decoding does not depend on the Buffer offset (subarray of a larger buffer)', (t) => {
  const full = v2('n1', [['n2', 'a2']]);
  const big = Buffer.concat([Buffer.from('junk'), full, Buffer.from('more')]);
  t.deepEqual(decodeChunkRef(big.subarray(4, 4 + full.length)), decodeChunkRef(full));
});
