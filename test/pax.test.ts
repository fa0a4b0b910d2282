import test from 'ava';
import { asciiFallbackName, binaryPathPax, binaryPathPaxEntry } from '../lib/core/pax.js';

test('pax records: "<len> key=value\\n" where len counts the whole record, across a digit boundary', (t) => {
  // " hdrcharset=BINARY\n" = 19 bytes; with "21" in front the record is 21 bytes long.
  t.deepEqual(binaryPathPax(Buffer.from([0xff])).subarray(0, 21), Buffer.from('21 hdrcharset=BINARY\n'));
  // " path=" + 91 bytes + "\n" = 98; 98 + 2 digits = 100 has 3 digits, so the record is 98 + 3 = 101 bytes.
  const p91 = Buffer.alloc(91, 0xfe);
  t.deepEqual(binaryPathPax(p91).subarray(21), Buffer.concat([Buffer.from('101 path='), p91, Buffer.from('\n')]));
  // " path=" + 90 bytes + "\n" = 97; 97 + 2 digits = 99.
  const p90 = Buffer.alloc(90, 0xfe);
  t.deepEqual(binaryPathPax(p90).subarray(21), Buffer.concat([Buffer.from('99 path='), p90, Buffer.from('\n')]));
});

test('the pax entry: a 512-byte ustar header with typeflag x, size and a valid checksum, then the body padded to 512', (t) => {
  const path = Buffer.from('s3/b/bad\xff', 'latin1');
  const e = binaryPathPaxEntry(path, new Date(1_700_000_000_000));
  const body = binaryPathPax(path);
  t.is(e.length, 1024);
  t.is(e.toString('latin1', 0, 9), 'PaxHeader');
  t.is(e.toString('latin1', 156, 157), 'x');
  t.is(e.toString('latin1', 257, 265), 'ustar\u000000');
  t.is(parseInt(e.toString('latin1', 124, 135), 8), body.length);
  t.is(parseInt(e.toString('latin1', 136, 147), 8), 1_700_000_000);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : e[i]!;
  t.is(parseInt(e.toString('latin1', 148, 154), 8), sum);
  t.deepEqual(e.subarray(512, 512 + body.length), body);
  t.true(e.subarray(512 + body.length).every((b) => b === 0));
});

test('the ustar fallback name is printable ASCII and at most 99 bytes (the end of the path)', (t) => {
  t.is(asciiFallbackName(Buffer.from('dir\xfe/x\n.txt', 'latin1')), 'dir_/x_.txt');
  const long = Buffer.from(`${'a'.repeat(200)}\xff`, 'latin1');
  t.is(asciiFallbackName(long), `${'a'.repeat(98)}_`);
});
