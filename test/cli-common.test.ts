import test from 'ava';
import { abortOnSignals, describeFailure, failure, interruptedBy, parseCommand, signalExitCode, usageError } from '../lib/cli/common.js';
import { VERSION } from '../lib/version.js';
import { DecodeError } from '../lib/errors.js';

test('usageError prints the error line and the --help hint, and gives exit code 2', (t) => {
  let out = '';
  t.is(usageError((s) => (out += s), 'tool', 'bad flag'), 2);
  t.is(out, "tool: error ERR_USAGE: bad flag\nTry 'tool --help'.\n");
});

test('parseCommand: the values and positionals; help before version (exit 0, printed on stdout); a bad flag is a usage error (exit 2)', (t) => {
  const spec = { name: 'tool', usage: 'USAGE\n', options: { out: { type: 'string', short: 'o' }, flag: { type: 'boolean' } } } as const;
  let out = '';
  let err = '';
  const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s) };
  const args = parseCommand(spec, ['-o', 'x', 'in', '--flag'], io);
  if (typeof args === 'number') return t.fail(`exit ${args}`);
  t.deepEqual({ ...args.values }, { out: 'x', flag: true });
  t.deepEqual(args.positionals, ['in']);
  t.is(parseCommand(spec, ['-V', '--help'], io), 0);
  t.is(out, 'USAGE\n');
  out = '';
  t.is(parseCommand(spec, ['-V'], io), 0);
  t.is(out, `tool ${VERSION}\n`);
  t.is(parseCommand(spec, ['--nope'], io), 2);
  t.regex(err, /^tool: error ERR_USAGE: .*--nope.*\nTry 'tool --help'\.\n$/s);
  err = '';
  t.is(parseCommand(spec, ['--no-flag'], io), 2, 'no --no-FLAG unless allowNegative');
  t.is(typeof parseCommand({ ...spec, allowNegative: true }, ['--no-flag'], io), 'object');
});

test('failure prints "NAME: error CODE: message" and returns the exit code', (t) => {
  let err = '';
  t.is(failure('tool', (s) => void (err += s), new DecodeError('ERR_USAGE', 'no')), 2);
  t.is(err, 'tool: error ERR_USAGE: no\n');
});

test('signal exit codes are 128 + the signal number', (t) => {
  t.is(signalExitCode('SIGINT'), 130);
  t.is(signalExitCode('SIGTERM'), 143);
});

test('describeFailure: DecodeErrors keep their code (ERR_USAGE exits 2), anything else is ERR_IO with its system code', (t) => {
  t.deepEqual(describeFailure(new DecodeError('ERR_USAGE', 'no')), { code: 'ERR_USAGE', message: 'no', exit: 2 });
  t.deepEqual(describeFailure(new DecodeError('ERR_JSONL_LINE', 'bad', { line: 3 })), { code: 'ERR_JSONL_LINE', message: 'line 3: bad', exit: 1 });
  const sys = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
  t.deepEqual(describeFailure(sys), { code: 'ERR_IO', message: 'ENOSPC: disk full', exit: 1 });
});

test('abortOnSignals aborts with the signal name, and release() stops listening', (t) => {
  const before = process.listenerCount('SIGTERM');
  const beforeInt = process.listenerCount('SIGINT');
  const stop = abortOnSignals();
  t.is(process.listenerCount('SIGTERM'), before + 1);
  t.is(interruptedBy(stop.signal), undefined);
  process.emit('SIGTERM', 'SIGTERM');
  t.is(interruptedBy(stop.signal), 'SIGTERM');
  stop.release();
  t.is(process.listenerCount('SIGTERM'), before);
  t.is(process.listenerCount('SIGINT'), beforeInt);
});

test('SIGHUP and SIGQUIT (a dropped ssh session) stop a run like SIGINT and SIGTERM: exit 129 and 131', (t) => {
  t.is(signalExitCode('SIGHUP'), 129);
  t.is(signalExitCode('SIGQUIT'), 131);
  for (const sig of ['SIGHUP', 'SIGQUIT'] as const) {
    const stop = abortOnSignals();
    process.emit(sig, sig);
    t.is(interruptedBy(stop.signal), sig);
    stop.release();
  }
});
