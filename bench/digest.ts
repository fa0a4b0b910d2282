/**
 * Ways to hash a small object's body held whole (SHA-256 and MD5, as the
 * sink does per object), CPU per object.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/digest.js [bytes] [objects]
 *
 * Default: 1 KiB bodies (workload (c)), 200 000 objects per way, two rounds.
 */
import { createHash, hash } from 'node:crypto';
import { digestOf } from '../lib/core/digest.js';

const size = Number(process.argv[2] ?? 1024);
const objects = Number(process.argv[3] ?? 200_000);
const body = Buffer.alloc(size, 0x5a);

const ways: Array<[string, () => unknown]> = [
  ['createHash().update().digest()', () => [createHash('sha256').update(body).digest(), createHash('md5').update(body).digest()]],
  ["crypto.hash(…, 'buffer')", () => [hash('sha256', body, 'buffer'), hash('md5', body, 'buffer')]],
  ['digestOf (hex, then Buffer.from)', () => [digestOf('sha256', body), digestOf('md5', body)]],
];

for (let round = 1; round <= 2; round++) {
  for (const [name, fn] of ways) {
    for (let i = 0; i < objects / 10; i++) fn();
    const c0 = process.cpuUsage();
    for (let i = 0; i < objects; i++) fn();
    const c = process.cpuUsage(c0);
    console.log(`round ${round}  ${name.padEnd(34)} ${((c.user + c.system) / objects).toFixed(2)} µs per object (${size} bytes)`);
  }
}
