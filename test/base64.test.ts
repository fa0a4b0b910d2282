import test from 'ava';
import { randomBytes } from 'node:crypto';
import { base64DecodedLength, decodeBase64Bytes, decodeBase64Strict } from '../lib/core/base64.js';
import { DecodeError } from '../lib/errors.js';

// SPEC §3.1: `key` and `value` are standard base64 (RFC 4648 §4), padding
// optional but, when present, complete; invalid base64 is an error (never
// silently dropped characters, as Node's Buffer.from(s, 'base64') does).

function ok(t: import('ava').ExecutionContext, input: string, hex: string): void {
  t.is(decodeBase64Strict(input, 'value', 1).toString('hex'), hex, JSON.stringify(input));
}

const show = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 20)}…(${s.length} chars)` : s);

function bad(t: import('ava').ExecutionContext, input: string, reason?: RegExp): void {
  const err = t.throws(() => decodeBase64Strict(input, 'key', 7), { instanceOf: DecodeError }, `${show(input)} should be rejected`);
  t.is(err?.code, 'ERR_JSONL_LINE');
  t.is(err?.context.line, 7);
  t.true(err?.detail.startsWith('"key": '));
  if (reason && err) t.regex(err.detail, reason);
}

// RFC 4648 §10 test vectors ("", "f", "fo", "foo", "foob", "fooba", "foobar").
test('RFC 4648 §10 vectors decode, with padding', (t) => {
  ok(t, '', '');
  ok(t, 'Zg==', '66');
  ok(t, 'Zm8=', '666f');
  ok(t, 'Zm9v', '666f6f');
  ok(t, 'Zm9vYg==', '666f6f62');
  ok(t, 'Zm9vYmE=', '666f6f6261');
  ok(t, 'Zm9vYmFy', '666f6f626172');
});

test('padding is optional: RFC 4648 §10 vectors decode without padding', (t) => {
  ok(t, 'Zg', '66');
  ok(t, 'Zm8', '666f');
  ok(t, 'Zm9vYg', '666f6f62');
  ok(t, 'Zm9vYmE', '666f6f6261');
});

test('empty string decodes to zero bytes', (t) => {
  t.is(decodeBase64Strict('', 'value', 1).length, 0);
});

test('all four length remainders: ≡0 full quanta, ≡2 one byte, ≡3 two bytes, ≡1 rejected', (t) => {
  ok(t, 'AAAA', '000000'); // 0 mod 4
  ok(t, '/w', 'ff'); // 2 mod 4
  ok(t, '//8', 'ffff'); // 3 mod 4
  bad(t, 'A', /length ≡ 1 mod 4/); // 1 mod 4
  bad(t, 'AAAAA', /length ≡ 1 mod 4/);
  bad(t, 'Zm9vY', /length ≡ 1 mod 4/);
});

test('full alphabet including + and / decodes', (t) => {
  // 00 10 83 10 51 87 20 92 8b 30 d3 8f 41 14 93 51 55 97 61 96 9b 71 d7 9f 82 18 a3 92 59 a7 a2 9a ab b2 db af c3 1c b3 d3 5d b7 e3 9e bb f3 df bf
  ok(
    t,
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
    '00108310518720928b30d38f41149351559761969b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3dfbf',
  );
});

test('padding, when present, must be complete', (t) => {
  bad(t, 'Zg=', /padding/); // needs "=="
  bad(t, 'Zm9vYg=', /padding/);
  bad(t, 'Zm8==', /padding/); // one too many
  bad(t, '=');
  bad(t, '==');
  bad(t, '===');
  bad(t, '====');
  bad(t, 'Z===');
  bad(t, 'Zg===');
});

test('padding only at the end: "=" inside the string is rejected', (t) => {
  bad(t, 'Zg==Zg==');
  bad(t, 'Zg=A');
  bad(t, 'Z=9v');
  bad(t, 'Zm9vYg==Zm8');
});

test('URL-safe alphabet (- and _) is rejected', (t) => {
  // "-_8" would be 0xfb 0xff in the URL-safe alphabet.
  bad(t, '-_8', /position 0/);
  bad(t, '+-8', /position 1/);
  bad(t, 'Zm9v_w', /position 4/);
  bad(t, 'Zm9v-w==', /position 4/);
});

test('whitespace anywhere is rejected (Node would skip it)', (t) => {
  bad(t, 'Zm9v Ym Fy', /position 4/);
  bad(t, 'Zm9v\nYmF', /position 4/);
  bad(t, ' Zm9vYg', /position 0/);
  bad(t, 'Zm9v  ', /position 4/);
  bad(t, 'Zm9vYg\t', /position 6/);
  bad(t, 'Zm9v '); // 5 chars: rejected for its length
  bad(t, 'Zm9v\r\n', /position 4/);
  bad(t, 'Zm 9v'); // 5 chars: rejected either way
  bad(t, 'Zm9vYmFy    '); // 12 chars, 8 decodable
});

test('other characters outside the alphabet are rejected', (t) => {
  bad(t, 'Zm9*', /position 3/);
  bad(t, 'Zm.v', /position 2/);
  bad(t, 'Zm9v\0\0\0\0', /position 4/);
  bad(t, '%Zm9', /position 0/);
  bad(t, 'Zm9vYg!=', /position 6/);
});

test('non-ASCII characters are rejected, including ones whose low byte is in the alphabet', (t) => {
  // Node truncates each character of such a string to its low byte:
  // U+0144 is 0x44 'D', U+012D is 0x2D '-', U+015F is 0x5F '_'.
  bad(t, 'QUJ\u0144', /position 3/); // would decode like "QUJD" = "ABC"
  bad(t, '\u0141\u0141\u0141\u0141', /position 0/);
  bad(t, 'QUJ\u012d', /position 3/);
  bad(t, 'QUJ\u015f', /position 3/);
  bad(t, 'QUJ\u00c4', /position 3/);
  bad(t, 'QUJDé===');
  bad(t, 'QUJ\u{1F600}');
  bad(t, 'QUJ\ud800');
});

test('rejection reports the position of the first invalid character', (t) => {
  bad(t, 'AAAA AAA', /position 4$/);
  bad(t, 'AA*A', /position 2$/);
});

test('large random inputs round-trip against Buffer.toString("base64"), padded and unpadded', (t) => {
  for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 1000, 1001, 1002, 65_536, 1_000_001, 1_000_002]) {
    const data = randomBytes(n);
    const padded = data.toString('base64');
    const unpadded = padded.replace(/=+$/, '');
    t.true(data.equals(decodeBase64Strict(padded, 'value', 1)), `padded length ${n}`);
    t.true(data.equals(decodeBase64Strict(unpadded, 'value', 1)), `unpadded length ${n}`);
  }
});

test('a large input with one bad character anywhere is rejected', (t) => {
  const good = randomBytes(30_000).toString('base64'); // 40000 chars, no padding
  for (const pos of [0, 1, 2, 3, 19_999, 39_996, 39_999]) {
    for (const ch of [' ', '-', '_', '.', '\u0144']) {
      const s = good.slice(0, pos) + ch + good.slice(pos + 1);
      bad(t, s, new RegExp(`position ${pos}$`));
    }
  }
});

test('base64DecodedLength: the bytes decodeBase64Bytes gives, padded or not, with its padding errors', (t) => {
  for (const text of ['', 'QQ', 'QQ==', 'QUI', 'QUI=', 'QUJD', 'QUJDRA', 'QUJDRA==']) {
    const b = Buffer.from(`"${text}"`);
    t.is(base64DecodedLength(b, 1, b.length - 1, 'value', 3), decodeBase64Bytes(b, 1, b.length - 1, 'value', 3).length, text);
  }
  t.is(base64DecodedLength(Buffer.from('QUJDRA=='), 0, 8, 'value', 1), 4);
  t.throws(() => base64DecodedLength(Buffer.from('QUJDR'), 0, 5, 'value', 7), { message: /truncated base64/ });
  t.throws(() => base64DecodedLength(Buffer.from('QUJ=='), 0, 5, 'key', 2), { message: /incomplete base64 padding/ });
});
