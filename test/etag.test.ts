import test from 'ava';
import { createHash } from 'node:crypto';
import { checkEtags, compositeEtag, needsBodyMd5, parseEtag } from '../lib/core/etag.js';

// SPEC §5.6: ETags are hex MD5 (surrounding `"` stripped, case ignored). A
// part's etag must equal the MD5 of that part's bytes. The object etag `H`
// (32 hex) must equal MD5(body); `H-N` must equal MD5 of the concatenated
// binary MD5s of every manifest part in part order (chunk_count-0 parts
// included) followed by `-N`. Other ETag shapes are not checked.

// RFC 1321 test suite values.
const MD5_EMPTY = 'd41d8cd98f00b204e9800998ecf8427e';
const MD5_ABC = '900150983cd24fb0d6963f7d28e17f72';
const MD5_HELLO = '5d41402abc4b2a76b9719d911017c592';

const md5 = (b: Buffer | string): Buffer => createHash('md5').update(b).digest();
/** Multipart ETag computed by hand: MD5(md5(p1) ‖ md5(p2) ‖ …) + "-" + count. */
const byHand = (...parts: string[]): string => {
  const h = createHash('md5');
  for (const p of parts) h.update(md5(p));
  return `${h.digest('hex')}-${parts.length}`;
};
const part = (partNo: bigint, etag: string, bytes: string) => ({ partNo, etag, md5: md5(bytes) });

// ------------------------------------------------------------ parseEtag

test('parseEtag: plain 32-hex MD5', (t) => {
  t.deepEqual(parseEtag(MD5_ABC), { kind: 'md5', hex: MD5_ABC });
});

test('parseEtag: surrounding quotes stripped and case ignored', (t) => {
  t.deepEqual(parseEtag(`"${MD5_ABC.toUpperCase()}"`), { kind: 'md5', hex: MD5_ABC });
  t.deepEqual(parseEtag('"900150983CD24fb0d6963F7D28E17F72"'), { kind: 'md5', hex: MD5_ABC });
});

test('parseEtag: composite H-N', (t) => {
  t.deepEqual(parseEtag(`${MD5_ABC}-3`), { kind: 'composite', hex: MD5_ABC, parts: 3 });
  t.deepEqual(parseEtag(`"${MD5_ABC.toUpperCase()}-12"`), { kind: 'composite', hex: MD5_ABC, parts: 12 });
});

test('parseEtag: other shapes are unchecked', (t) => {
  for (const e of [
    '',
    '"',
    '""',
    'abc',
    MD5_ABC.slice(1), // 31 hex
    `${MD5_ABC}0`, // 33 hex
    `${MD5_ABC.slice(1)}g`, // non-hex
    `${MD5_ABC}-`,
    `${MD5_ABC}-x`,
    `${MD5_ABC}-1-2`,
    `${MD5_ABC}--1`,
    `${MD5_ABC}-+1`,
    ` ${MD5_ABC}`,
    `${MD5_ABC} `,
    `"${MD5_ABC}`, // unbalanced quote
    `${MD5_ABC}"`,
    `W/"${MD5_ABC}"`, // weak ETag
    `'${MD5_ABC}'`,
    `""${MD5_ABC}""`,
  ]) {
    t.deepEqual(parseEtag(e), { kind: 'unchecked' }, JSON.stringify(e));
  }
});

// ------------------------------------------------------------ compositeEtag

test('compositeEtag: MD5 of the concatenated binary part MD5s, then -N (literal values)', (t) => {
  t.is(compositeEtag([md5('abc'), md5('')]), 'fdf1fdf1567f6942ffe1743f1e72301e-2');
  t.is(compositeEtag([md5('hello')]), '62109206880d38a4010a98e11243924a-1');
  t.is(compositeEtag([md5('abc'), md5('hello')]), '2605b9d5bde78fd2f9d7f0f75973da26-2');
  t.is(compositeEtag([]), `${MD5_EMPTY}-0`);
});

test('compositeEtag agrees with a hand computation on more parts', (t) => {
  const parts = ['a', 'bb', '', 'ccc', 'x'.repeat(10_000)];
  t.is(compositeEtag(parts.map((p) => md5(p))), byHand(...parts));
});

// ------------------------------------------------------------ checkEtags

test('single-part object: plain ETag equal to MD5(body) passes', (t) => {
  t.is(checkEtags(MD5_ABC, [part(1n, MD5_ABC, 'abc')], md5('abc')), null);
});

test('quoted upper-case ETags (object and part) pass', (t) => {
  const q = `"${MD5_ABC.toUpperCase()}"`;
  t.is(checkEtags(q, [part(1n, q, 'abc')], md5('abc')), null);
});

test('object ETag differing from MD5(body) is reported with both values', (t) => {
  const msg = checkEtags(MD5_HELLO, [part(1n, MD5_ABC, 'abc')], md5('abc'));
  t.is(msg, `ETag ${MD5_HELLO} != MD5 ${MD5_ABC}`);
});

test('quoted upper-case object ETag mismatch is reported in normalised (lower-case, unquoted) form', (t) => {
  const msg = checkEtags(`"${MD5_HELLO.toUpperCase()}"`, [], md5('abc'));
  t.is(msg, `ETag ${MD5_HELLO} != MD5 ${MD5_ABC}`);
});

test('part ETag differing from the MD5 of its bytes is reported, naming the part', (t) => {
  const msg = checkEtags(byHand('abc', 'hello'), [part(1n, MD5_ABC, 'abc'), part(2n, MD5_ABC, 'hello')], undefined);
  t.is(msg, `part 2 ETag ${MD5_ABC} != MD5 ${MD5_HELLO}`);
});

test('part mismatch is reported before object mismatch', (t) => {
  // Both the part ETag and the object ETag are wrong: the part is named.
  const msg = checkEtags(MD5_EMPTY, [part(7n, MD5_HELLO, 'abc')], md5('abc'));
  t.is(msg, `part 7 ETag ${MD5_HELLO} != MD5 ${MD5_ABC}`);
  const multi = checkEtags(`${MD5_EMPTY}-2`, [part(1n, MD5_ABC, 'abc'), part(2n, MD5_EMPTY, 'hello')], undefined);
  t.is(multi, `part 2 ETag ${MD5_EMPTY} != MD5 ${MD5_HELLO}`);
});

test('the first mismatching part in order is reported', (t) => {
  const msg = checkEtags('x', [part(1n, MD5_ABC, 'abc'), part(2n, MD5_EMPTY, 'hello'), part(3n, MD5_EMPTY, 'abc')], undefined);
  t.is(msg, `part 2 ETag ${MD5_EMPTY} != MD5 ${MD5_HELLO}`);
});

test('composite H-N equal to the hand-computed multipart ETag passes', (t) => {
  const etag = byHand('abc', 'hello');
  t.is(etag, '2605b9d5bde78fd2f9d7f0f75973da26-2');
  t.is(checkEtags(etag, [part(1n, MD5_ABC, 'abc'), part(2n, MD5_HELLO, 'hello')], undefined), null);
  t.is(checkEtags(`"${etag.toUpperCase()}"`, [part(1n, MD5_ABC, 'abc'), part(2n, MD5_HELLO, 'hello')], undefined), null);
});

test('composite H-N includes chunk_count-0 parts (MD5 of empty bytes)', (t) => {
  const parts = [part(1n, MD5_ABC, 'abc'), part(2n, MD5_EMPTY, '')];
  t.is(checkEtags('fdf1fdf1567f6942ffe1743f1e72301e-2', parts, undefined), null);
  // Leaving the empty part out of the computation gives another ETag, which fails.
  const withoutEmpty = byHand('abc');
  t.not(checkEtags(withoutEmpty, parts, undefined), null);
});

test('composite H-N with the wrong hash is reported', (t) => {
  const msg = checkEtags(`${MD5_ABC}-2`, [part(1n, MD5_ABC, 'abc'), part(2n, MD5_HELLO, 'hello')], undefined);
  t.is(msg, `ETag ${MD5_ABC}-2 != composite MD5 2605b9d5bde78fd2f9d7f0f75973da26-2`);
});

test('composite H-N: N must be the number of manifest parts', (t) => {
  const parts = [part(1n, MD5_ABC, 'abc'), part(2n, MD5_HELLO, 'hello')];
  t.not(checkEtags('2605b9d5bde78fd2f9d7f0f75973da26-3', parts, undefined), null);
  t.not(checkEtags('2605b9d5bde78fd2f9d7f0f75973da26-1', parts, undefined), null);
});

test('composite H-N: part order matters', (t) => {
  const swapped = byHand('hello', 'abc');
  t.not(checkEtags(swapped, [part(1n, MD5_ABC, 'abc'), part(2n, MD5_HELLO, 'hello')], undefined), null);
});

test('other object ETag shapes are not checked (parts still are)', (t) => {
  for (const e of ['', 'not-an-etag', MD5_ABC.slice(1), `W/"${MD5_ABC}"`]) {
    t.is(checkEtags(e, [part(1n, MD5_ABC, 'abc')], md5('hello')), null, e);
  }
  t.is(checkEtags('', [part(1n, MD5_HELLO, 'abc')], undefined), `part 1 ETag ${MD5_HELLO} != MD5 ${MD5_ABC}`);
});

test('other part ETag shapes (e.g. empty) are not checked', (t) => {
  t.is(checkEtags(MD5_ABC, [part(1n, '', 'abc'), part(2n, 'zzz', '')], md5('abc')), null);
});

test('a plain object ETag is not checked when no body MD5 was computed', (t) => {
  t.is(checkEtags(MD5_HELLO, [], undefined), null);
});

test('needsBodyMd5: only for a plain (possibly quoted, upper-case) MD5 ETag', (t) => {
  t.true(needsBodyMd5(MD5_ABC));
  t.true(needsBodyMd5(`"${MD5_ABC.toUpperCase()}"`));
  t.false(needsBodyMd5(`${MD5_ABC}-2`));
  t.false(needsBodyMd5(''));
  t.false(needsBodyMd5('whatever'));
});

test('the restored-multipart shape is exempt (SPEC §5.6): one part carrying the object H-N etag, N > 1', (t) => {
  const md5 = Buffer.alloc(16, 1);
  const etag = '0123456789abcdef0123456789abcdef-3';
  t.is(checkEtags(etag, [{ partNo: 1n, etag, md5 }], undefined), null);
  t.is(checkEtags(`"${etag}"`, [{ partNo: 1n, etag: `"${etag}"`, md5 }], undefined), null);
  // N = 1, a different part etag, or two parts: checked as before.
  t.not(checkEtags('0123456789abcdef0123456789abcdef-1', [{ partNo: 1n, etag: '0123456789abcdef0123456789abcdef-1', md5 }], undefined), null);
  t.not(checkEtags(etag, [{ partNo: 1n, etag: '0123456789abcdef0123456789abcdef-2', md5 }], undefined), null);
  t.not(checkEtags(etag, [{ partNo: 1n, etag, md5 }, { partNo: 2n, etag, md5 }], undefined), null);
});
