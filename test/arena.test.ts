import test from 'ava';
import fc from 'fast-check';
import { arrayBufferBytes } from './helpers/retained.js';
import { BLOCK, ByteArena, giveBlock, takeBlock } from '../lib/core/arena.js';

test('put() and view(): bytes come back at their positions, across blocks; positions are never 0', (t) => {
  const a = new ByteArena();
  const items: Array<{ at: number; bytes: Buffer }> = [];
  for (let i = 0; i < 5000; i++) {
    const bytes = Buffer.from(`item-${i}-${'x'.repeat(i % 300)}`);
    items.push({ at: a.put(bytes), bytes });
  }
  const large = Buffer.alloc(BLOCK + 10, 7); // a block of its own
  items.push({ at: a.put(large), bytes: large });
  for (const { at, bytes } of items) {
    t.true(at > 0);
    t.true(a.view(at, bytes.length).equals(bytes));
    t.true(a.equals(at, bytes.length, bytes));
  }
  t.false(a.equals(items[0]!.at, items[0]!.bytes.length, Buffer.from('item-1')));
});

test('compare() orders bytes as Buffer.compare does', (t) => {
  const a = new ByteArena();
  const words = ['b', 'a', 'ab', '', 'a\xff', 'a\x00', 'B'].map((w) => Buffer.from(w, 'latin1'));
  const at = words.map((w) => a.put(w));
  for (let i = 0; i < words.length; i++) {
    for (let j = 0; j < words.length; j++) {
      t.is(Math.sign(a.compare(at[i]!, words[i]!.length, at[j]!, words[j]!.length)), Buffer.compare(words[i]!, words[j]!));
    }
  }
});

test('compare() agrees with Buffer.compare on long shared prefixes, at every length mod 4, and with large (own-block) entries', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.array(fc.uint8Array({ maxLength: 9 }), { minLength: 2, maxLength: 6 }), fc.boolean(), (prefix, tails, large) => {
      const a = new ByteArena();
      const pad = large ? Buffer.alloc(BLOCK / 4 + 1, 0x61) : Buffer.alloc(0);
      const words = tails.map((tail) => Buffer.concat([pad, prefix, tail]));
      const at = words.map((w) => a.put(w));
      for (let i = 0; i < words.length; i++) {
        for (let j = 0; j < words.length; j++) {
          if (a.compare(at[i]!, words[i]!.length, at[j]!, words[j]!.length) !== Buffer.compare(words[i]!, words[j]!)) return false;
        }
      }
      return true;
    }),
  );
  t.pass();
});

test('release(): a block whose every put() is released is reused; live bytes and copies are never overwritten', (t) => {
  const a = new ByteArena();
  const kept: Array<{ at: number; bytes: Buffer }> = [];
  const copies: Array<{ view: Buffer; bytes: Buffer }> = [];
  const released: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const bytes = Buffer.from(`v${i}-${'y'.repeat(50)}`);
    if (i % 1000 === 0) {
      copies.push({ view: a.copy(bytes), bytes });
    } else {
      const at = a.put(bytes);
      if (i < 10000 || i % 2 === 0) released.push(at);
      else kept.push({ at, bytes });
    }
  }
  for (const at of released) a.release(at);
  // Other arenas now take the released blocks and scribble on them.
  const b = new ByteArena();
  for (let i = 0; i < 20000; i++) b.put(Buffer.alloc(60, 0xee));
  for (let i = 0; i < 40; i++) takeBlock().fill(0xdd);
  for (const { at, bytes } of kept) t.true(a.view(at, bytes.length).equals(bytes));
  for (const { view, bytes } of copies) t.true(view.equals(bytes));
});

test('takeBlock() hands out BLOCK-byte buffers, reusing given-back ones', (t) => {
  const x = takeBlock();
  t.is(x.length, BLOCK);
  giveBlock(x);
  t.is(takeBlock(), x);
  giveBlock(Buffer.alloc(10)); // not a block: ignored
  t.is(takeBlock().length, BLOCK);
});

test('an arena starts with a small block and doubles up to BLOCK (an arena per bucket must not cost a full block)', (t) => {
  const a = new ByteArena();
  a.put(Buffer.from('k'));
  t.true(arrayBufferBytes(a) <= 4096, `${arrayBufferBytes(a)} bytes`);
  // Many puts: all bytes come back, across growing blocks.
  const at: number[] = [];
  for (let k = 0; k < 20_000; k++) at.push(a.put(Buffer.from(`key-${k}`)));
  for (const k of [0, 1, 999, 12_345, 19_999]) t.is(a.view(at[k]!, `key-${k}`.length).toString(), `key-${k}`);
});
