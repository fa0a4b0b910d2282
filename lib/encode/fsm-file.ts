/**
 * The output snapshot file (SPEC §12): written to `OUT.partial-<random>`
 * beside OUT, hashed (SHA-256) and CRC'd as it is written, and published at
 * OUT without ever replacing an existing file (link, then unlink the
 * temporary name). Small pieces are copied into one 1 MiB batch buffer,
 * written when full and used again (not a new buffer per batch), and a
 * piece is not referred to once write() returns, so a caller may reuse its
 * buffers.
 */
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import { Crc32c } from '../core/crc32c.js';
import { fsmFooter } from '../core/fsm-encoder.js';
import { DecodeError, ioError } from '../errors.js';
import { CREATE_NEW } from '../io/fs-callbacks.js';

const BATCH_BYTES = 1 << 20;
/** Pieces at least this large skip the batch. */
const DIRECT_BYTES = 64 * 1024;

export class FsmFile {
  private readonly sha = createHash('sha256');
  /** Only when a footer will be written. */
  private readonly crc: Crc32c | undefined;
  private readonly batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
  private batched = 0;
  /** Bytes written so far. */
  bytes = 0;

  private constructor(
    private readonly fh: fsp.FileHandle,
    /** The temporary path being written. */
    readonly tmpPath: string,
    readonly outPath: string,
    footer: boolean,
    private readonly durable: boolean,
  ) {
    this.crc = footer ? new Crc32c() : undefined;
  }

  /**
   * A new file beside outPath. footer: keep the CRC-32C for footer();
   * durable: fsync at close() (the output, not a scratch file).
   */
  static async create(outPath: string, opts: { footer: boolean; durable: boolean }): Promise<FsmFile> {
    const tmp = `${outPath}.partial-${randomBytes(6).toString('hex')}`;
    try {
      return new FsmFile(await fsp.open(tmp, CREATE_NEW, 0o644), tmp, outPath, opts.footer, opts.durable);
    } catch (e) {
      throw ioError(e, tmp, 'cannot create the output file');
    }
  }

  /** Appends pieces, in order. Small ones are copied into the batch; a large one (a body chunk) is written as it is. */
  async write(pieces: readonly Buffer[]): Promise<void> {
    for (const p of pieces) {
      this.count(p);
      if (p.length >= DIRECT_BYTES) {
        await this.flush();
        await this.writeOut(p);
        continue;
      }
      if (this.batched + p.length > BATCH_BYTES) await this.flush();
      this.batched += p.copy(this.batch, this.batched);
    }
  }

  /**
   * Appends the bytes of the file at `from`, read through the batch buffer:
   * a stream would take a new 1 MiB buffer per read, and for the manifest
   * entries of a million small objects (~500 MB: 52.4 MB per 100 000) that
   * garbage was the encode's peak of memory.
   */
  async append(from: string): Promise<void> {
    await this.flush();
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(from, 'r');
      for (;;) {
        const { bytesRead } = await fh.read(this.batch, 0, BATCH_BYTES, null);
        if (bytesRead === 0) break;
        const piece = this.batch.subarray(0, bytesRead);
        this.count(piece);
        await this.writeOut(piece);
      }
    } catch (e) {
      throw e instanceof DecodeError ? e : ioError(e, from, 'cannot read');
    } finally {
      await fh?.close();
    }
  }

  /** Appends the CRC-32C footer of every byte so far. */
  async footer(): Promise<void> {
    if (!this.crc) throw new Error('FsmFile: footer() on a file created without footer');
    await this.write([fsmFooter(this.crc.digest())]);
  }

  /** Flushes and closes the file; returns the hex SHA-256 of its bytes. */
  async close(): Promise<string> {
    await this.flush();
    try {
      if (this.durable) await this.fh.sync();
      await this.fh.close();
    } catch (e) {
      throw ioError(e, this.tmpPath, 'cannot write the output file');
    }
    return this.sha.digest('hex');
  }

  /** Moves the closed file to its final name, which must not exist. */
  async publish(): Promise<void> {
    try {
      await fsp.link(this.tmpPath, this.outPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new DecodeError('ERR_USAGE', 'the output file appeared while encoding; not replaced', { path: this.outPath });
      throw ioError(e, this.outPath, 'cannot publish the output file');
    }
    await fsp.unlink(this.tmpPath);
  }

  /** Closes (if open) and removes the temporary file. */
  async discard(): Promise<void> {
    await this.fh.close().catch(() => {});
    await fsp.rm(this.tmpPath, { force: true });
  }

  private count(p: Buffer): void {
    this.sha.update(p);
    this.crc?.update(p);
    this.bytes += p.length;
  }

  private async flush(): Promise<void> {
    if (this.batched === 0) return;
    const n = this.batched;
    this.batched = 0;
    await this.writeOut(this.batch.subarray(0, n));
  }

  private async writeOut(buf: Buffer): Promise<void> {
    try {
      for (let at = 0; at < buf.length; ) at += (await this.fh.write(buf, at, buf.length - at)).bytesWritten;
    } catch (e) {
      throw ioError(e, this.tmpPath, 'cannot write the output file');
    }
  }
}
