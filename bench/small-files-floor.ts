/**
 * The least a Node program must do to turn a snapshot of many small
 * objects (workload (c)) into files, with none of the decoder's records,
 * stages, sorting or naming: read the native input in 4 MiB pieces, CRC-32C
 * them on the main thread (native input is checked, SPEC §3.2), cut out the
 * entries (SPEC §3.2's framing), and for each blob entry hash its value
 * (MD5 and SHA-256, one call each, as the decoder does for small bodies,
 * lib/core/digest.ts, but straight to hex) and write it as a body file with its modification
 * time, for each manifest entry write its value as a sidecar file and hash
 * it (SHA-256, for CHECKSUMS), object i's two files in directory i / 1000
 * (blob and manifest entries counted apart: one chunk per object); at the
 * end one CHECKSUMS-like list. Files are created by the decoder's own
 * small-file writer (lib/io/small-file-writer.ts: batches handed to a
 * worker thread), or by several in turn (--writers N, a thread each).
 *
 *   node dist/bench/small-files-floor.js INPUT OUTDIR [--writers N] [--two-phase]
 *
 * What this leaves out, and a decode cannot: settling every key's path
 * before any file is written (SPEC §5.8 needs all keys), writing a body
 * only once its manifest says it is whole, rendering the sidecars rather
 * than copying, and the ETag checks. What lies between a decode row of (c)
 * and this line is the decoder's own work.
 *
 * --two-phase keeps the first of those: no file is written before the last
 * entry has been read (a decode cannot name a file before it knows every
 * key). The first pass reads, CRC-32Cs and cuts the input as above, MD5s
 * each blob's value and notes where each value lies in the input (two
 * numbers, no bytes kept); the second reads the values back from the input
 * itself in 4 MiB pieces, blobs and manifests each in their order (the
 * least a decode could do: no scratch copy), and writes the files as above.
 *
 * Prints one JSON line: wall seconds, files written (bodies, sidecars and
 * the list), this process's user and system seconds (all threads). OUTDIR
 * must not exist; it is left for the caller to delete.
 */
import { hash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { crc32c } from '../lib/core/crc32c.js';
import { BLOB_PREFIX, hasPrefix, MANIFEST_PREFIX } from '../lib/core/keys.js';
import { META_SUFFIX } from '../lib/core/names.js';
import { FSM_VALUE_HEADER_LEN } from '../lib/core/fsm-format.js';
import { FsmPreambleReader } from '../lib/core/fsm-preamble.js';
import { DecodeError } from '../lib/errors.js';
import { SmallFileWriter } from '../lib/io/small-file-writer.js';

const PIECE = 4 << 20;
const PER_DIR = 1000;
const MODE = 0o600;
const BLOB = Buffer.from(BLOB_PREFIX, 'latin1');
const MANIFEST = Buffer.from(MANIFEST_PREFIX, 'latin1');
/** A fixed modification time for every body (the decoder sets each object's Last-Modified). */
const MTIME = 1_700_000_000;

const USAGE = 'usage: node dist/bench/small-files-floor.js INPUT OUTDIR [--writers N] [--two-phase]';

/** The input in pieces, with what is left of the last piece carried into the next; CRC-32C'd a piece at a time. */
class Input {
  readonly fd: number;
  private buf = Buffer.allocUnsafe(PIECE);
  private have = 0;
  private at = 0;
  /** Where buf[0] is in the input. */
  private offset = 0;
  /** Bytes of buf before this are in crc. */
  private checked = 0;
  private eof = false;
  /** CRC-32C of every byte taken so far (once the next piece is read, or rest() is called). */
  crc = 0;

  constructor(private readonly file: string) {
    this.fd = openSync(file, 'r');
  }

  /** The next n bytes (a view valid until the next call); the input ending first is an error. */
  take(n: number): Buffer {
    if (this.have - this.at < n) this.fill(n);
    if (this.have - this.at < n) throw new Error(`${this.file}: truncated at byte ${this.offset + this.have}`);
    this.at += n;
    return this.buf.subarray(this.at - n, this.at);
  }

  /** Where the next byte taken lies in the input. */
  get position(): number {
    return this.offset + this.at;
  }

  /** Whether no more than a footer is left. */
  get atEnd(): boolean {
    if (this.have - this.at < 8) this.fill(8);
    return this.eof && this.have - this.at <= 4;
  }

  /** What is left (the footer), with every byte before it in crc. */
  rest(): Buffer {
    this.check();
    return this.buf.subarray(this.at, this.have);
  }

  close(): void {
    closeSync(this.fd);
  }

  private check(): void {
    this.crc = crc32c(this.buf, this.crc, this.checked, this.at);
    this.checked = this.at;
  }

  private fill(n: number): void {
    this.check();
    this.buf.copy(this.buf, 0, this.at, this.have);
    this.offset += this.at;
    this.have -= this.at;
    this.at = this.checked = 0;
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(n);
      this.buf.copy(bigger, 0, 0, this.have);
      this.buf = bigger;
    }
    while (!this.eof && this.have < n) {
      const got = readSync(this.fd, this.buf, this.have, this.buf.length - this.have, null);
      if (got === 0) this.eof = true;
      this.have += got;
    }
  }
}

/**
 * Stretches of a file read back in ascending order, through a 4 MiB window
 * read a piece at a time, each handed out as a view. Not lib/io/read-window.ts:
 * that window fills only for a read starting where the last one ended (the
 * spill's values lie end to end), while the values here have their entries'
 * headers between them, and it copies each out.
 */
class Window {
  private buf = Buffer.allocUnsafe(PIECE);
  /** Where buf[0] lies in the file, and how many bytes of it buf holds. */
  private start = 0;
  private have = 0;

  constructor(
    private readonly fd: number,
    private readonly file: string,
  ) {}

  /** The n bytes at offset (a view valid until the next call); offsets must not go backwards. */
  view(offset: number, n: number): Buffer {
    if (offset < this.start || offset + n > this.start + this.have) {
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
      this.start = offset;
      this.have = readSync(this.fd, this.buf, 0, this.buf.length, offset);
      if (this.have < n) throw new Error(`${this.file}: ${n} bytes at ${offset} are past its end`);
    }
    return this.buf.subarray(offset - this.start, offset - this.start + n);
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { writers: { type: 'string', default: '1' }, 'two-phase': { type: 'boolean', default: false } }, allowPositionals: true });
  const twoPhase = values['two-phase'];
  const writers = Number(values.writers);
  if (positionals.length !== 2 || !(writers >= 1)) throw new Error(USAGE);
  const [input, out] = positionals as [string, string];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();

  const pool = Array.from({ length: writers }, () => new SmallFileWriter());
  const sums: string[] = [];
  const made = new Set<number>();
  // Object i's body and sidecar both go to directory i / PER_DIR (as a decode's keys of (c) do), written by writer (i / PER_DIR) % writers.
  const write = async (i: number, suffix: string, data: Buffer, mtime?: number): Promise<void> => {
    const d = Math.floor(i / PER_DIR);
    const dir = path.join(out, String(d).padStart(4, '0'));
    if (!made.has(d)) {
      mkdirSync(dir, { recursive: true });
      made.add(d);
    }
    const file = path.join(dir, `${String(i).padStart(6, '0')}${suffix}`);
    // Hex straight from the hash: the list wants nothing else.
    sums.push(`${hash('sha256', data, 'hex')}  ${file}\n`);
    const wait = pool[d % writers]!.write(Buffer.from(file), [data], MODE, false, mtime);
    if (wait) await wait;
  };

  const src = new Input(input);
  // The preamble (optional HLC header, magic, lastCommitTS), by the decoder's own reader, a byte at a time: a few dozen bytes.
  const preamble = new FsmPreambleReader();
  try {
    while (!preamble.info) preamble.take(src.take(1), 0);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    throw new Error(`${input}: ${e.message}`);
  }
  let bodies = 0;
  let sidecars = 0;
  // --two-phase: (input offset, length) of each blob's and each manifest's value, for the second pass.
  const blobAt: number[] = [];
  const manifestAt: number[] = [];
  while (!src.atEnd) {
    const key = src.take(Number(src.take(8).readBigUInt64LE(0)));
    // Judged before the next take() moves the bytes.
    const blob = hasPrefix(key, BLOB);
    const manifest = !blob && hasPrefix(key, MANIFEST);
    const value = src.take(Number(src.take(8).readBigUInt64LE(0))).subarray(FSM_VALUE_HEADER_LEN);
    if (blob) hash('md5', value, 'hex');
    if (twoPhase) {
      if (blob || manifest) (blob ? blobAt : manifestAt).push(src.position - value.length, value.length);
    } else if (blob) {
      await write(bodies++, '', value, MTIME);
    } else if (manifest) {
      await write(sidecars++, META_SUFFIX, value);
    }
  }
  const footer = src.rest();
  if (footer.length !== 4 || footer.readUInt32BE(0) !== src.crc >>> 0) throw new Error(`${input}: CRC-32C footer does not match`);
  if (twoPhase) {
    // Object i's body, then its sidecar, as a decode's sink writes them.
    const blobs = new Window(src.fd, input);
    const manifests = new Window(src.fd, input);
    for (let i = 0; i < Math.max(blobAt.length, manifestAt.length); i += 2) {
      if (i < blobAt.length) await write(bodies++, '', blobs.view(blobAt[i]!, blobAt[i + 1]!), MTIME);
      if (i < manifestAt.length) await write(sidecars++, META_SUFFIX, manifests.view(manifestAt[i]!, manifestAt[i + 1]!));
    }
  }
  src.close();
  for (const w of pool) await w.flush();
  for (const w of pool) await w.close();
  writeFileSync(path.join(out, 'CHECKSUMS'), sums.join(''));

  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ wallS: (performance.now() - t0) / 1000, files: bodies + sidecars + 1, bodies, sidecars, userS: cpu.user / 1e6, systemS: cpu.system / 1e6 }));
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(2);
});
