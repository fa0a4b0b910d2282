import test from 'ava';
import { abortOnSignals, describeFailure, helpOrVersion, interruptedBy, signalExitCode, usageError } from '../lib/cli/common.js';
import { DecodeError } from '../lib/errors.js';

test('usageError prints the error line and the --help hint, and gives exit code 2', (t) => {
  let out = '';
  t.is(usageError((s) => (out += s), 'tool', 'bad flag'), 2);
  t.is(out, "tool: error ERR_USAGE: bad flag\nTry 'tool --help'.\n");
});

test('helpOrVersion prints help before version, or nothing', (t) => {
  let out = '';
  const print = (s: string): void => {
    out += s;
  };
  t.is(helpOrVersion({ help: true, version: true }, print, 'USAGE\n', 'tool 1\n'), 0);
  t.is(out, 'USAGE\n');
  out = '';
  t.is(helpOrVersion({ version: true }, print, 'USAGE\n', 'tool 1\n'), 0);
  t.is(out, 'tool 1\n');
  out = '';
  t.is(helpOrVersion({}, print, 'USAGE\n', 'tool 1\n'), undefined);
  t.is(out, '');
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
