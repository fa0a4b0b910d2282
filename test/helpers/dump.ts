/**
 * Writes a dump tree by hand (SPEC §6), independently of lib/: the given
 * files, a MANIFEST.json, and a CHECKSUMS made with the harness's own
 * sha256sum-format line writer. For the encoder's and verifier's tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checksumLine } from '../e2e/harness.js';

export interface ManifestFields {
  lastCommitTs?: bigint;
  clusterId?: string;
  includeIncompleteUploads?: boolean;
  includeOrphans?: boolean;
  renameCollisions?: boolean;
}

/** MANIFEST.json as the decoder writes it (the fields the encoder reads, and the rest). */
export function manifestJson(m: ManifestFields = {}): string {
  const lines = ['{', '  "format_version": 1,', '  "phase": "phase0-snapshot-decode",'];
  if (m.clusterId) lines.push(`  "cluster_id": ${JSON.stringify(m.clusterId)},`);
  if (m.lastCommitTs) lines.push(`  "last_commit_ts": ${m.lastCommitTs},`);
  lines.push(
    '  "wall_time_iso": "2026-01-01T00:00:00Z",',
    '  "source": {',
    '    "fsm_path": "-"',
    '  },',
    '  "adapters": {},',
    '  "exclusions": {',
    `    "include_incomplete_uploads": ${m.includeIncompleteUploads === true},`,
    `    "include_orphans": ${m.includeOrphans === true},`,
    '    "preserve_sqs_visibility": false,',
    `    "include_sqs_side_records": false${m.renameCollisions ? ',' : ''}`,
  );
  if (m.renameCollisions) lines.push('    "rename_s3_collisions": true');
  lines.push('  },', '  "checksum_algorithm": "sha256",', '  "decoder": "test"', '}', '');
  return lines.join('\n');
}

/** Writes files (path relative to root → content), MANIFEST.json and CHECKSUMS; returns root. */
export function writeDump(root: string, files: Record<string, Buffer | string>, m: ManifestFields = {}): string {
  const all: Record<string, Buffer | string> = { 'MANIFEST.json': manifestJson(m), ...files };
  for (const [rel, data] of Object.entries(all)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data, { mode: 0o600 });
  }
  rewriteChecksums(root);
  return root;
}

/** (Re)writes CHECKSUMS for every regular file under root (as a tamperer who covers their tracks would). */
export function rewriteChecksums(root: string): void {
  const rels: Buffer[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && r !== 'CHECKSUMS') rels.push(Buffer.from(r));
    }
  };
  walk('');
  rels.sort(Buffer.compare);
  fs.writeFileSync(path.join(root, 'CHECKSUMS'), Buffer.concat(rels.map((r) => checksumLine(r, fs.readFileSync(path.join(root, r.toString()))))), { mode: 0o644 });
}
