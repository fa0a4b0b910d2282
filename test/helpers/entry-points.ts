/** Checks over the command-line entry points (bin/*.js) shared by the tests of what each sets up first. */
import type { ExecutionContext } from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin');

/** Every bin/*.js (at least five) calls `name()` on a line of its own, before its command runs (its first await). */
export function assertEveryEntryPointCallsFirst(t: ExecutionContext, name: string): void {
  const bins = readdirSync(BIN).filter((f) => f.endsWith('.js'));
  t.true(bins.length >= 5);
  for (const f of bins) {
    const text = readFileSync(path.join(BIN, f), 'utf8');
    const call = text.indexOf(`\n${name}();\n`);
    t.true(call > 0, `${f} does not call ${name}()`);
    t.true(call < text.search(/\n[^\n]*await /), `${f} calls ${name}() after its command runs`);
  }
}
