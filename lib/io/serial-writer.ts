/**
 * Writes to one file, one write at a time, in the order asked. Buffered
 * writes to one file take its inode's lock in the kernel (ext4), so
 * pwrite()s issued at once from several thread-pool threads run one after
 * another anyway — and the waiting threads spin on the lock: 4.1–4.2 % of
 * all CPU samples of a 1 GiB decode were `rwsem_spin_on_owner` with up to
 * 8 MiB of writes in flight to the run file (perf record, bench workloads
 * a and d), none with this queue. Pieces queued meanwhile that follow each
 * other in the file go out as one pwritev() of at most 1 MiB.
 *
 * Why not more: ext4 (Linux 6.16 and later) backs a buffered write of
 * 2 MiB or more with 2 MiB page-cache folios, and on a VM that hands free
 * memory back to its host (free page reporting, as on this project's
 * machines) free 2 MiB blocks are what the host has taken back: each such
 * folio is fresh host memory, faulted in on first touch. Smaller folios
 * come from smaller free blocks first, which stay backed. With up to 64
 * pieces per pwritev() (4-8 MiB writes), a 1 GiB decode right after a
 * 1 GiB file written in 1 MiB pieces was deleted took 0.68-1.25 s of
 * system time (5 of 6 runs above 1 s); with this cap 0.66-0.78 s
 * (docs/PERFORMANCE.md, "Writes of at most 1 MiB").
 */
import fs from 'node:fs';
import { ioError } from '../errors.js';
import { closeFd, type Done } from './fs-callbacks.js';

/** Bytes in one pwritev() at most, unless one piece is longer (see above). */
const MAX_WRITE_BYTES = 1 << 20;
/** Buffers in one pwritev() at most (Linux allows 1024). */
const MAX_PIECES = 64;

interface Pending {
  buf: Buffer;
  position: number;
  done: Done;
}

export class SerialWriter {
  private readonly queue: Pending[] = [];
  private busy = false;

  constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {}

  /** Writes all of buf at position after every write asked before; calls back once it is written. */
  write(buf: Buffer, position: number, done: Done): void {
    if (buf.length === 0) return done();
    this.queue.push({ buf, position, done });
    if (!this.busy) this.next();
  }

  /** Closes the file (after the last callback). */
  close(done: Done): void {
    closeFd(this.fd, this.path, done);
  }

  private next(): void {
    const first = this.queue.shift();
    if (!first) return void (this.busy = false);
    this.busy = true;
    const batch = [first];
    let end = first.position + first.buf.length;
    for (let p = this.queue[0]; p !== undefined && p.position === end && batch.length < MAX_PIECES && end + p.buf.length - first.position <= MAX_WRITE_BYTES; p = this.queue[0]) {
      batch.push(this.queue.shift()!);
      end += p.buf.length;
    }
    writevAll(
      this.fd,
      batch.map((p) => p.buf),
      first.position,
      this.path,
      (err) => {
        for (const p of batch) p.done(err);
        this.next();
      },
    );
  }
}

/** pwritev()s all of bufs at position, looping over short writes. */
function writevAll(fd: number, bufs: Buffer[], position: number, path: string, done: Done): void {
  fs.writev(fd, bufs, position, (err, written) => {
    if (err) return done(ioError(err, path, 'cannot write'));
    let rest = bufs;
    let n = written;
    while (rest.length > 0 && n >= rest[0]!.length) {
      n -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (rest.length === 0) return done();
    rest = [rest[0]!.subarray(n), ...rest.slice(1)];
    writevAll(fd, rest, position + written, path, done);
  });
}
