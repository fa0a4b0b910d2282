import test from 'ava';
import { decodeRune, runeWidth } from '../lib/core/utf8.js';

const at = (...b: number[]): number => decodeRune(Uint8Array.from(b), 0, b.length);

test('valid sequences of 2, 3 and 4 bytes decode to their code point and width', (t) => {
  t.is(at(0xc3, 0xa9), 0xe9); // é
  t.is(at(0xe2, 0x80, 0xa8), 0x2028);
  t.is(at(0xf0, 0x9f, 0x98, 0x80), 0x1f600); // 😀
  t.is(at(0xf4, 0x8f, 0xbf, 0xbf), 0x10ffff);
  t.deepEqual([0x80, 0x7ff, 0x800, 0xffff, 0x10000, 0x10ffff].map(runeWidth), [2, 2, 3, 3, 4, 4]);
});

test('invalid, overlong, surrogate, too large and truncated sequences are -1', (t) => {
  t.is(at(0x80), -1); // continuation byte first
  t.is(at(0xc0, 0x80), -1); // overlong NUL
  t.is(at(0xc1, 0xbf), -1);
  t.is(at(0xe0, 0x80, 0x80), -1); // overlong 3-byte
  t.is(at(0xed, 0xa0, 0x80), -1); // U+D800
  t.is(at(0xf0, 0x80, 0x80, 0x80), -1); // overlong 4-byte
  t.is(at(0xf4, 0x90, 0x80, 0x80), -1); // above U+10FFFF
  t.is(at(0xf5, 0x80, 0x80, 0x80), -1);
  t.is(at(0xe2, 0x80), -1); // truncated
  t.is(at(0xc3, 0x41), -1); // bad continuation
  t.is(decodeRune(Uint8Array.from([0xc3, 0xa9]), 0, 1), -1); // n cuts the sequence
});
