/**
 * The hashes of one spilled run, fed in file order: SHA-256 of everything,
 * and (for ETag checks) the MD5 of each stretch of one (partNo, partVersion)
 * plus the MD5 of the whole run. The whole-run MD5 costs nothing extra for a
 * single-part run: it is the part's MD5; from the second part on it
 * continues from a copy of the first part's state.
 */
import { createHash, type Hash } from 'node:crypto';

export interface RunDigestResult {
  sha256?: Buffer;
  md5?: Buffer;
  parts: Array<{ partNo: bigint; partVersion: bigint; length: number; md5?: Buffer }>;
}

export class RunDigest {
  private readonly sha: Hash | undefined;
  private md5Part: Hash | undefined;
  private md5Whole: Hash | undefined;
  private readonly parts: RunDigestResult['parts'] = [];

  constructor(private readonly algos: { sha256: boolean; md5: boolean }) {
    this.sha = algos.sha256 ? createHash('sha256') : undefined;
  }

  update(partNo: bigint, partVersion: bigint, bytes: Uint8Array): void {
    const last = this.parts[this.parts.length - 1];
    if (!last || last.partNo !== partNo || last.partVersion !== partVersion) {
      if (this.algos.md5) {
        if (last && this.md5Part) {
          this.md5Whole ??= this.md5Part.copy();
          last.md5 = this.md5Part.digest();
        }
        this.md5Part = createHash('md5');
      }
      this.parts.push({ partNo, partVersion, length: 0 });
    }
    this.parts[this.parts.length - 1]!.length += bytes.length;
    this.sha?.update(bytes);
    this.md5Part?.update(bytes);
    this.md5Whole?.update(bytes);
  }

  digest(): RunDigestResult {
    const out: RunDigestResult = { parts: this.parts };
    if (this.sha) out.sha256 = this.sha.digest();
    if (this.md5Part) {
      const last = this.parts[this.parts.length - 1]!;
      last.md5 = this.md5Part.digest();
      out.md5 = this.md5Whole ? this.md5Whole.digest() : last.md5;
    }
    return out;
  }
}
