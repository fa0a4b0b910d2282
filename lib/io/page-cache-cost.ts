/**
 * What writing through the page cache costs this host, measured as it
 * happens. A dump directory's runs are written through the page cache while
 * their MD5s are to be read back from the file (side by side, cheaper per
 * byte: lib/stages/hash-pool.ts). Where a fresh page-cache page costs a
 * fault on the host (a VM that hands free memory back) or the reclaim of
 * another, a decode costs 1.5–3.1 s of system time per GiB, against 0.6–1.1
 * for the same decode written with O_DIRECT and its MD5s computed as
 * written (0.4–0.9 s of user time more per GiB). So the spiller watches
 * the process's system time per byte written through the page cache, in
 * windows, and once one window costs more than the threshold, the runs it
 * begins from then on are written past the page cache (docs/PERFORMANCE.md,
 * "Writes past the page cache when they cost less").
 *
 * The system time is the whole process's: the input's reads and the MD5s'
 * read-back are in it too (~0.3 s per GiB), which the threshold allows for.
 */

/** System seconds per GiB written through the page cache above which writing past it costs less. */
export const COSTLY_SYSTEM_S_PER_GIB = 1.5;
/** Bytes written before the first window: start-up's own system time (mapping memory, loading modules) stays out. */
const SKIP_BYTES = 32 << 20;
/** Bytes per window. */
const WINDOW_BYTES = 64 << 20;
const GIB = 1 << 30;

/** Options of PageCacheCost; the defaults are for a decode, tests make them small. */
export interface PageCacheCostOptions {
  /** Default COSTLY_SYSTEM_S_PER_GIB. */
  costlyPerGiB?: number;
  skipBytes?: number;
  windowBytes?: number;
  /** The process's system CPU seconds so far (default process.cpuUsage()). */
  systemSeconds?: () => number;
}

/** Judges, window by window, whether writing through the page cache costs this process more system time than writing past it would. */
export class PageCacheCost {
  private readonly costlyPerGiB: number;
  private readonly skipBytes: number;
  private readonly windowBytes: number;
  private readonly systemSeconds: () => number;
  /** Bytes noted so far. */
  private bytes = 0;
  /** Where the current window started: bytes noted and system seconds then (undefined: still skipping). */
  private start: { bytes: number; system: number } | undefined;
  private costly_ = false;

  constructor(opts: PageCacheCostOptions = {}) {
    this.costlyPerGiB = opts.costlyPerGiB ?? COSTLY_SYSTEM_S_PER_GIB;
    this.skipBytes = opts.skipBytes ?? SKIP_BYTES;
    this.windowBytes = opts.windowBytes ?? WINDOW_BYTES;
    this.systemSeconds = opts.systemSeconds ?? (() => process.cpuUsage().system / 1e6);
  }

  /** Once true, stays true: a window cost more than the threshold. */
  get costly(): boolean {
    return this.costly_;
  }

  /** Notes `n` more bytes written through the page cache; returns `costly`. */
  wrote(n: number): boolean {
    if (this.costly_) return true;
    this.bytes += n;
    if (this.start === undefined) {
      if (this.bytes >= this.skipBytes) this.start = { bytes: this.bytes, system: this.systemSeconds() };
      return false;
    }
    const length = this.bytes - this.start.bytes;
    if (length < this.windowBytes) return false;
    const system = this.systemSeconds();
    this.costly_ = ((system - this.start.system) * GIB) / length > this.costlyPerGiB;
    this.start = { bytes: this.bytes, system };
    return this.costly_;
  }
}
