import test from 'ava';
import fc from 'fast-check';
import { printable } from '../lib/core/printable.js';

// SPEC §2/§8: every error message names the offending bucket/object/key in
// printable form. lib/core/printable.ts: valid, printable UTF-8 is kept;
// every other byte is \xHH (lowercase hex) and a backslash is \\, so two
// different keys never print the same.

const p = (...bytes: number[]): string => printable(Buffer.from(bytes));
const ps = (s: string): string => printable(Buffer.from(s, 'utf8'));

test('printable ASCII is kept as is', (t) => {
  t.is(ps('!s3|obj|head|bkt a/b.txt ~'), '!s3|obj|head|bkt a/b.txt ~');
  t.is(ps(''), '');
});

test('a backslash is doubled', (t) => {
  t.is(ps('a\\b'), 'a\\\\b');
  t.is(ps('\\'), '\\\\');
});

test('ASCII control bytes and DEL are \\xHH (lowercase hex)', (t) => {
  t.is(p(0x00), '\\x00');
  t.is(p(0x01, 0x41), '\\x01A');
  t.is(ps('a\nb\tc\r'), 'a\\x0ab\\x09c\\x0d');
  t.is(p(0x1b, 0x5b, 0x33, 0x31, 0x6d), '\\x1b[31m'); // an ANSI colour escape is defused
  t.is(p(0x1f), '\\x1f');
  t.is(p(0x7f), '\\x7f');
});

test('valid printable UTF-8 is kept (2, 3 and 4 bytes)', (t) => {
  t.is(ps('é'), 'é');
  t.is(ps('¡'), '¡'); // U+00A1, first printable after the C1 range and NBSP
  t.is(ps('日本語/ファイル'), '日本語/ファイル');
  t.is(ps('€'), '€');
  t.is(ps('😀'), '😀');
  t.is(ps('a😀b'), 'a😀b');
});

test('invalid UTF-8 bytes are \\xHH each', (t) => {
  t.is(p(0x80), '\\x80'); // lone continuation byte
  t.is(p(0xff), '\\xff');
  t.is(p(0xfe, 0xfd), '\\xfe\\xfd');
  t.is(p(0xc0, 0x80), '\\xc0\\x80'); // overlong NUL
  t.is(p(0xc1, 0xbf), '\\xc1\\xbf'); // overlong
  t.is(p(0xe0, 0x80, 0x80), '\\xe0\\x80\\x80'); // overlong
  t.is(p(0xed, 0xa0, 0x80), '\\xed\\xa0\\x80'); // UTF-16 surrogate D800
  t.is(p(0xf4, 0x90, 0x80, 0x80), '\\xf4\\x90\\x80\\x80'); // above U+10FFFF
  t.is(p(0xf5, 0x80, 0x80, 0x80), '\\xf5\\x80\\x80\\x80');
});

test('truncated UTF-8 sequences are \\xHH, and what follows is decoded on its own', (t) => {
  t.is(p(0xc3), '\\xc3'); // end of input
  t.is(p(0xc3, 0x41), '\\xc3A');
  t.is(p(0xe2, 0x82), '\\xe2\\x82');
  t.is(p(0xe2, 0x82, 0x41), '\\xe2\\x82A');
  t.is(p(0xf0, 0x9f, 0x98), '\\xf0\\x9f\\x98');
  t.is(p(0xe2, 0xc3, 0xa9), '\\xe2é');
});

test('C1 control characters (U+0080–U+009F) are \\xHH', (t) => {
  t.is(p(0xc2, 0x80), '\\xc2\\x80');
  t.is(p(0xc2, 0x9b), '\\xc2\\x9b'); // CSI
  t.is(p(0xc2, 0x9f), '\\xc2\\x9f');
});

test('U+FFFD in the key is \\xHH, so it is not confused with a replaced invalid byte', (t) => {
  t.is(p(0xef, 0xbf, 0xbd), '\\xef\\xbf\\xbd');
});

test('line and paragraph separators U+2028 / U+2029 are \\xHH', (t) => {
  t.is(ps('a\u2028b'), 'a\\xe2\\x80\\xa8b');
  t.is(ps('\u2029'), '\\xe2\\x80\\xa9');
});

test('invisible format characters are \\xHH (bidi override, zero-width, BOM, soft hyphen)', (t) => {
  t.is(ps('\u202e'), '\\xe2\\x80\\xae'); // RIGHT-TO-LEFT OVERRIDE
  t.is(ps('\u2066'), '\\xe2\\x81\\xa6'); // LEFT-TO-RIGHT ISOLATE
  t.is(ps('a\u200bb'), 'a\\xe2\\x80\\x8bb'); // ZERO WIDTH SPACE
  t.is(ps('\u200d'), '\\xe2\\x80\\x8d'); // ZERO WIDTH JOINER
  t.is(ps('\ufeff'), '\\xef\\xbb\\xbf'); // BOM
  t.is(ps('\u00ad'), '\\xc2\\xad'); // SOFT HYPHEN
  t.is(ps('\u{e0041}'), '\\xf3\\xa0\\x81\\x81'); // TAG LATIN CAPITAL LETTER A
});

test('non-ASCII spaces are \\xHH (they would look like a plain space)', (t) => {
  t.is(ps('a\u00a0b'), 'a\\xc2\\xa0b'); // NO-BREAK SPACE
  t.is(ps('\u3000'), '\\xe3\\x80\\x80'); // IDEOGRAPHIC SPACE
  t.is(ps('\u2007'), '\\xe2\\x80\\x87'); // FIGURE SPACE
});

test('different keys print differently: an escaped-looking key is not the escaped byte', (t) => {
  t.is(ps('\\x80'), '\\\\x80');
  t.is(p(0x80), '\\x80');
  t.not(ps('\\x80'), p(0x80));
  t.is(ps('\\\\'), '\\\\\\\\');
  t.not(ps('\\\\'), ps('\\'));
});

/** Reads a printable form back to bytes: \\ → 5c, \xHH → byte, other characters → their UTF-8. */
function unprint(s: string): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('\\\\', i)) {
      out.push(Buffer.from([0x5c]));
      i += 2;
    } else if (s[i] === '\\') {
      if (s[i + 1] !== 'x' || !/^[0-9a-f]{2}$/.test(s.slice(i + 2, i + 4))) throw new Error(`bad escape at ${i} in ${s}`);
      out.push(Buffer.from(s.slice(i + 2, i + 4), 'hex'));
      i += 4;
    } else {
      const ch = String.fromCodePoint(s.codePointAt(i)!);
      out.push(Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.concat(out);
}

test('property: the printable form reads back to exactly the original bytes (so it is injective)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (arr) => {
      const b = Buffer.from(arr);
      return unprint(printable(b)).equals(b);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
      const b = Buffer.from(s, 'utf8');
      return unprint(printable(b)).equals(b);
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test('property: the printable form holds no control, format, separator (other than " ") or U+FFFD characters', (t) => {
  const bad = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\ufffd]|[^\P{Zs} ]/u;
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), fc.string({ unit: 'binary', maxLength: 20 }).map((s) => Buffer.from(s))), (b) => !bad.test(printable(b))),
    { numRuns: 3000 },
  );
  t.pass();
});
