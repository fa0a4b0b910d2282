/**
 * The published package: `npm run build` is a clean, non-incremental build
 * of dist/lib (an incremental one emitted nothing when dist/lib had been
 * removed but dist/.tsbuildinfo had not), ships no source maps pointing at unshipped
 * sources, and `npm pack` holds the license, the commands and the library.
 * Runs in a copy of the package so the worktree's dist/ is left alone.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { REPO } from './e2e/harness.js';

// A whole build and `npm pack` take some 40 s on a loaded runner: in `npm run test:slow`.
const slowTest = process.env.EKV_SLOW_TESTS === '1' ? test : test.skip;

slowTest('npm run build builds dist/lib from scratch (a leftover dist/.tsbuildinfo notwithstanding); npm pack ships LICENSE, bin, dist/lib and no maps', (t) => {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-pack-'));
  t.teardown(() => fs.rmSync(copy, { recursive: true, force: true }));
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE']) {
    if (fs.existsSync(path.join(REPO, f))) fs.copyFileSync(path.join(REPO, f), path.join(copy, f));
  }
  for (const d of ['lib', 'bin']) fs.cpSync(path.join(REPO, d), path.join(copy, d), { recursive: true });
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'));
  // A leftover incremental build info and no dist/lib: the build must not consult it (it is not incremental).
  fs.mkdirSync(path.join(copy, 'dist'));
  fs.copyFileSync(path.join(REPO, 'dist', '.tsbuildinfo'), path.join(copy, 'dist', '.tsbuildinfo'));
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: copy, stdio: 'pipe' });
  t.true(fs.existsSync(path.join(copy, 'dist', 'lib', 'index.js')), 'dist/lib/index.js built');
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--offline'], { cwd: copy, encoding: 'utf8' });
  const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  for (const want of ['LICENSE', 'README.md', 'package.json', 'bin/ekv-s3-decode.js', 'bin/ekv-snapshot-jsonl.js', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/cli/main.js']) {
    t.true(files.includes(want), `${want} in the package (${files.length} files)`);
  }
  t.deepEqual(files.filter((f) => f.endsWith('.map')), [], 'no source maps');
  t.deepEqual(files.filter((f) => !/^(LICENSE|README\.md|package\.json|bin\/[^/]+\.js|dist\/lib\/.+\.(js|d\.ts))$/.test(f)), [], 'nothing else');
  const index = fs.readFileSync(path.join(copy, 'dist', 'lib', 'index.js'), 'utf8');
  t.false(index.includes('sourceMappingURL'), 'no map reference left in the JavaScript');
  const license = fs.readFileSync(path.join(copy, 'LICENSE'), 'utf8');
  t.true(license.includes('Apache License') && license.includes('Version 2.0, January 2004') && license.includes('END OF TERMS AND CONDITIONS'), 'the full Apache-2.0 text');
});
