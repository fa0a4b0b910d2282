/**
 * Notes, by base name, whether each file opened through fs.open (callback
 * style, process-wide) was ever opened with O_DIRECT; tests using it run
 * serially.
 */
import fs from 'node:fs';
import path from 'node:path';

export function spyOnOpen(t: { teardown(fn: () => void): void }): Map<string, boolean> {
  const original = fs.open;
  const seen = new Map<string, boolean>();
  (fs as { open: unknown }).open = (p: string, ...rest: unknown[]) => {
    const flags = rest.length > 1 && typeof rest[0] === 'number' ? rest[0] : 0;
    const name = path.basename(p);
    seen.set(name, (seen.get(name) ?? false) || (flags & fs.constants.O_DIRECT) !== 0);
    return (original as (...a: unknown[]) => void)(p, ...rest);
  };
  t.teardown(() => ((fs as { open: unknown }).open = original));
  return seen;
}
