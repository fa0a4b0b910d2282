import test from 'ava';
import { FsmDecoder } from '../lib/core/fsm-decoder.js';
import { FSM_MAX_KEY_LEN, FSM_MAX_VALUE_LEN } from '../lib/core/fsm-format.js';
import { DecodeError } from '../lib/errors.js';
import { buildFsm, buildFsmEntry } from './helpers/fsm.js';
import { expectError, run, u64le } from './helpers/fsm-decode.js';

test('key length < 8 → ERR_SNAPSHOT_CORRUPT at the entry', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }]);
  for (const kl of [0n, 1n, 7n]) {
    const input = Buffer.concat([pre, u64le(kl), Buffer.alloc(7), u64le(9n), Buffer.alloc(9)]);
    expectError(t, input, 'ERR_SNAPSHOT_CORRUPT', pre.length, /key length/);
  }
});

test('value length < 9 → ERR_SNAPSHOT_CORRUPT at the value length field', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }]);
  for (const vl of [0n, 1n, 8n]) {
    const input = Buffer.concat([pre, u64le(10n), Buffer.from('key'), Buffer.alloc(7), u64le(vl), Buffer.alloc(20)]);
    expectError(t, input, 'ERR_SNAPSHOT_CORRUPT', pre.length + 18, /value length field.*entry at byte offset \d+/);
  }
});

test('key length over 1 MiB + 8 → ERR_SNAPSHOT_CORRUPT before allocating', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }], { header: 'v1' });
  for (const kl of [BigInt(FSM_MAX_KEY_LEN) + 1n, 1n << 32n, 1n << 40n, (1n << 64n) - 1n]) {
    const input = Buffer.concat([pre, u64le(kl), Buffer.alloc(64)]);
    expectError(t, input, 'ERR_SNAPSHOT_CORRUPT', pre.length, new RegExp(`claims ${kl} bytes`));
    // Fed only the length field: the error comes at once, not at EOF, and nothing was allocated for it.
    const d = new FsmDecoder();
    d.push(pre);
    const err = t.throws(() => d.push(u64le(kl)), { instanceOf: DecodeError });
    t.is(err?.code, 'ERR_SNAPSHOT_CORRUPT');
    t.is(err?.context.offset, pre.length);
    // The decoder stays failed.
    t.is(t.throws(() => d.push(Buffer.alloc(1))), err);
    t.is(t.throws(() => d.end()), err);
  }
});

test('value length over 256 MiB + 43 (e.g. 2^40) → ERR_SNAPSHOT_CORRUPT before allocating', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }]);
  const key = Buffer.concat([Buffer.from('key'), Buffer.alloc(8)]);
  for (const vl of [BigInt(FSM_MAX_VALUE_LEN) + 1n, 1n << 40n, (1n << 64n) - 1n]) {
    const input = Buffer.concat([pre, u64le(11n), key, u64le(vl), Buffer.alloc(64)]);
    expectError(t, input, 'ERR_SNAPSHOT_CORRUPT', pre.length + 19, new RegExp(`claims ${vl} bytes`));
    const d = new FsmDecoder();
    d.push(Buffer.concat([pre, u64le(11n), key]));
    const before = process.memoryUsage().arrayBuffers;
    const err = t.throws(() => d.push(u64le(vl)), { instanceOf: DecodeError });
    t.is(err?.code, 'ERR_SNAPSHOT_CORRUPT');
    t.true(process.memoryUsage().arrayBuffers - before < 1 << 20);
  }
});

test('the largest key (1 MiB + 8 encoded) is accepted', (t) => {
  const key = Buffer.alloc(1 << 20, 0x6b);
  const input = buildFsm([{ key, value: 'v', commitTs: 3n }], { footer: true });
  const out = run(input, [100, 70000, 1 << 19]);
  if (!out.ok) return t.fail(out.message);
  t.is(out.records[0]!.key, key.toString('hex'));
  t.is(out.records[0]!.commitTs, 3n);
});

test('flags: encryption state 1 → ERR_SNAPSHOT_ENCRYPTED at the flags byte, with the key', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }]);
  for (const flags of [0x02, 0x03]) {
    const input = Buffer.concat([pre, buildFsmEntry({ key: '!redis|str|secret', value: 'ciphertext', flags })]);
    const flagsAt = pre.length + 8 + 17 + 8 + 8;
    expectError(t, input, 'ERR_SNAPSHOT_ENCRYPTED', flagsAt, /encrypt/);
    const d = new FsmDecoder();
    const err = t.throws(() => d.push(input), { instanceOf: DecodeError });
    t.is(err?.context.key?.toString(), '!redis|str|secret');
    t.regex(err?.message ?? '', new RegExp(`flags byte \\(this offset\\) of the entry at byte offset ${pre.length}`));
  }
});

test('flags: encryption state 2–3 and bits 3–7 → ERR_SNAPSHOT_RESERVED_FLAGS at the flags byte', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }], { header: 'v1' });
  const flagsAt = pre.length + 8 + 11 + 8;
  for (const flags of [0x04, 0x05, 0x06, 0x07, 0x08, 0x10, 0x20, 0x40, 0x80, 0x81, 0xf8, 0xff]) {
    const input = Buffer.concat([pre, buildFsmEntry({ key: 'abc', value: 'x', flags })]);
    const out = run(input);
    // 0xff has encryption state 3 and reserved bits: reserved either way.
    t.false(out.ok);
    if (!out.ok) {
      t.is(out.code, 'ERR_SNAPSHOT_RESERVED_FLAGS', `flags ${flags}`);
      t.is(out.offset, flagsAt);
    }
  }
  // Reserved bits with encryption state 1: the encryption is reported.
  expectError(t, Buffer.concat([pre, buildFsmEntry({ key: 'abc', value: 'x', flags: 0x0a })]), 'ERR_SNAPSHOT_ENCRYPTED', flagsAt);
});
