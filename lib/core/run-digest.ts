/**
 * The hashes one hash worker computes of one spilled run, fed in file order:
 * SHA-256 of everything it is given (when it owns the run's SHA-256), and
 * the MD5 of each stretch of one (partNo, partVersion) it is told to hash
 * (for ETag checks). No MD5 of the whole run: for a single stretch it is the
 * stretch's MD5, and a run of several stretches is a multipart body, whose
 * `H-N` ETag needs only the part MD5s — a second MD5 stream would double the
 * costliest hash (MD5 runs at ~0.9 GB/s on one core). The rare multipart
 * body with a plain MD5 ETag is hashed again from its file
 * (lib/sinks/body.ts, runMd5s). Different stretches of one run may be
 * hashed by different workers (lib/stages/hash-pool.ts).
 */
import { createHash, type Hash } from 'node:crypto';

export interface RunDigestResult {
  sha256?: Buffer;
  /** The stretches this digest was fed, with the MD5 of those it was told to hash. */
  parts: Array<{ partNo: bigint; partVersion: bigint; length: number; md5?: Buffer }>;
}

export class RunDigest {
  private readonly sha: Hash | undefined;
  private md5: Hash | undefined;
  private readonly parts: RunDigestResult['parts'] = [];

  constructor(sha256: boolean) {
    this.sha = sha256 ? createHash('sha256') : undefined;
  }

  /** Bytes of stretch (partNo, partVersion); `md5`: this digest computes the stretch's MD5 (same for all its bytes). */
  update(partNo: bigint, partVersion: bigint, bytes: Uint8Array, md5: boolean): void {
    let last = this.parts[this.parts.length - 1];
    if (!last || last.partNo !== partNo || last.partVersion !== partVersion) {
      this.finishStretch();
      this.md5 = md5 ? createHash('md5') : undefined;
      last = { partNo, partVersion, length: 0 };
      this.parts.push(last);
    }
    last.length += bytes.length;
    this.sha?.update(bytes);
    this.md5?.update(bytes);
  }

  /**
   * Bytes of stretch (partNo, partVersion) for its MD5 only: the start of a
   * stretch whose MD5 begins late (read back from the run's file, after the
   * stretch's first bytes went by without it), before update() gives the
   * rest with `md5` true. Neither the SHA-256 nor the stretch's length sees
   * them again.
   */
  md5Only(partNo: bigint, partVersion: bigint, bytes: Uint8Array): void {
    const last = this.parts[this.parts.length - 1];
    if (!last || last.partNo !== partNo || last.partVersion !== partVersion) {
      this.finishStretch();
      this.parts.push({ partNo, partVersion, length: 0 });
    }
    (this.md5 ??= createHash('md5')).update(bytes);
  }

  digest(): RunDigestResult {
    this.finishStretch();
    const out: RunDigestResult = { parts: this.parts };
    if (this.sha) out.sha256 = this.sha.digest();
    return out;
  }

  private finishStretch(): void {
    const last = this.parts[this.parts.length - 1];
    if (last && this.md5) last.md5 = this.md5.digest();
    this.md5 = undefined;
  }
}
