/**
 * The hashes of one spilled run, fed in file order: SHA-256 of everything,
 * and (for ETag checks) the MD5 of each stretch of one (partNo, partVersion).
 * No MD5 of the whole run: for a single stretch it is the stretch's MD5, and
 * a run of several stretches is a multipart body, whose `H-N` ETag needs only
 * the part MD5s — a second MD5 stream would double the costliest hash (MD5
 * runs at ~0.9 GB/s on one core). The rare multipart body with a plain MD5
 * ETag is hashed again from its file (lib/sinks/body.ts, verifyRun).
 */
import { createHash, type Hash } from 'node:crypto';

export interface RunDigestResult {
  sha256?: Buffer;
  parts: Array<{ partNo: bigint; partVersion: bigint; length: number; md5?: Buffer }>;
}

export class RunDigest {
  private readonly sha: Hash | undefined;
  private md5: Hash | undefined;
  private readonly parts: RunDigestResult['parts'] = [];

  constructor(private readonly algos: { sha256: boolean; md5: boolean }) {
    this.sha = algos.sha256 ? createHash('sha256') : undefined;
  }

  update(partNo: bigint, partVersion: bigint, bytes: Uint8Array): void {
    let last = this.parts[this.parts.length - 1];
    if (!last || last.partNo !== partNo || last.partVersion !== partVersion) {
      if (this.algos.md5) {
        if (last && this.md5) last.md5 = this.md5.digest();
        this.md5 = createHash('md5');
      }
      last = { partNo, partVersion, length: 0 };
      this.parts.push(last);
    }
    last.length += bytes.length;
    this.sha?.update(bytes);
    this.md5?.update(bytes);
  }

  digest(): RunDigestResult {
    const out: RunDigestResult = { parts: this.parts };
    if (this.sha) out.sha256 = this.sha.digest();
    if (this.md5) this.parts[this.parts.length - 1]!.md5 = this.md5.digest();
    return out;
  }
}
