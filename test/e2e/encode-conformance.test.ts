/**
 * Every public conformance case whose decode succeeds is a dump; each one
 * must round-trip: ekv-s3-encode, then decoding the snapshot again, gives
 * the identical tree (every file but MANIFEST.json and CHECKSUMS). SPEC
 * §12's refusals aside, which must then be refused for the stated reason.
 * The cases live in ../shared beside the checkout; without it the test
 * skips, saying so.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { decodeSnapshot } from '../../lib/decode.js';
import { encodeDump } from '../../lib/encode/encode.js';
import { REPO, readTree, tempDir } from './harness.js';

const CASES = path.resolve(REPO, '..', 'shared', 'conformance', 'cases');

interface Case {
  name: string;
  exit: number;
  args: string[];
  expected: Record<string, Record<string, string>>;
}

/** Why §12 refuses this dump, or undefined when it must round-trip. */
function refusal(files: Map<string, Buffer>, args: string[]): RegExp | undefined {
  // Decoded without verification: the dump holds a body its sidecar's ETag does not match.
  if (args.includes('--no-verify')) return /MD5 [0-9a-f]{32} != sidecar etag/;
  const manifest = JSON.parse(files.get('MANIFEST.json')!.toString()) as { exclusions?: Record<string, boolean> };
  if (manifest.exclusions?.include_orphans || manifest.exclusions?.include_incomplete_uploads) return /include_(orphans|incomplete_uploads)/;
  const paths = [...files.keys()];
  if (paths.some((p) => p.endsWith('/_skipped.jsonl'))) return /_skipped\.jsonl/;
  const bucketDirs = new Set(paths.filter((p) => p.startsWith('s3/')).map((p) => p.split('/')[1]!));
  for (const d of bucketDirs) if (!files.has(`s3/${d}/_bucket.json`)) return /no _bucket\.json/;
  return undefined;
}

const dataFiles = (root: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [p, f] of readTree(root).files) if (p !== 'MANIFEST.json' && p !== 'CHECKSUMS') out[p] = f.data.toString('base64');
  return out;
};

if (!fs.existsSync(CASES)) {
  console.log(`encode-conformance: skipped, ${CASES} is absent (the conformance cases sit in ../shared beside the checkout)`);
  test('conformance round trip (skipped: ../shared absent)', (t) => t.pass());
} else {
  for (const name of fs.readdirSync(CASES).sort()) {
    const c = JSON.parse(fs.readFileSync(path.join(CASES, name, 'case.json'), 'utf8')) as Case;
    const form = c.expected.fsm ? 'fsm' : c.expected.jsonl ? 'jsonl' : undefined;
    if ((c.exit !== 0 && c.exit !== 3) || form === undefined) continue;
    test(`round trip: ${name}`, async (t) => {
      const work = tempDir(t);
      const dump = path.join(work, 'dump');
      const files = new Map<string, Buffer>();
      for (const [p64, b64] of Object.entries(c.expected[form]!)) {
        const rel = Buffer.from(p64, 'base64');
        const abs = Buffer.concat([Buffer.from(dump + '/'), rel]);
        fs.mkdirSync(path.dirname(abs.toString('latin1')) === '.' ? dump : Buffer.concat([Buffer.from(dump + '/'), rel.subarray(0, rel.lastIndexOf(0x2f))]), { recursive: true });
        fs.writeFileSync(abs, Buffer.from(b64, 'base64'), { mode: 0o600 });
        files.set(rel.toString('latin1'), Buffer.from(b64, 'base64'));
      }
      const out = path.join(work, 'out.fsm');
      const why = refusal(files, c.args);
      if (why) {
        const err = await t.throwsAsync(encodeDump(dump, { output: out, scratchDir: work }));
        t.regex(err!.message, why);
        t.false(fs.existsSync(out), 'nothing is published');
        return;
      }
      const r = await encodeDump(dump, { output: out, scratchDir: work });
      t.true(r.selfTest?.matched, 'self-test');
      const again = path.join(work, 'again');
      await decodeSnapshot(out, { output: again, renameCollisions: c.args.includes('--rename-collisions') });
      t.deepEqual(dataFiles(again), dataFiles(dump));
    });
  }
}
