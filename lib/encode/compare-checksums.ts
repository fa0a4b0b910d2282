/**
 * The self-test's comparison (SPEC §12): two CHECKSUMS lists — the input
 * dump's and the one decoded from the written snapshot — joined by path.
 * Both are sorted bytewise by path (SPEC §6), so they are walked side by
 * side, a line of each at a time; a list found out of order (a dump not
 * written by a decoder that follows §6) is joined through an external sort
 * instead. The walk holds two lines; the sort held a 16 MiB budget of
 * records and a read buffer per run, and was the peak of a million-object
 * encode (docs/PERFORMANCE.md).
 */
import { printable } from '../core/printable.js';
import { Breather } from '../io/breather.js';
import { ExternalSorter } from '../io/external-sort.js';
import { parseChecksumsLine } from '../verify/check.js';
import { LineCursor, readLines } from '../verify/read-file.js';

export interface CompareOptions {
  /** The input dump's CHECKSUMS. */
  input: string;
  /** The CHECKSUMS decoded from the written snapshot. */
  decoded: string;
  /** Where the sort's run files go, when one is needed. */
  scratch: string;
  /** Paths left out besides MANIFEST.json. */
  ignore?: (p: Buffer) => boolean;
  signal?: AbortSignal;
}

/** At most this many differences are reported. */
export const MAX_DIFFERENCES = 20;

/** Differences in path order, "<path>: <what>"; at most MAX_DIFFERENCES. */
export async function compareChecksums(opts: CompareOptions): Promise<string[]> {
  return (await compareSorted(opts)) ?? (await compareBySort(opts));
}

interface Entry {
  path: Buffer;
  sha256: string;
}

const MANIFEST = Buffer.from('MANIFEST.json');

/** Whether a path is left out of the comparison. */
function skipper(opts: CompareOptions): (p: Buffer) => boolean {
  return (p) => p.equals(MANIFEST) || (opts.ignore?.(p) ?? false);
}

/** What differs for one path, given its digest on each side (undefined: not listed there); undefined when nothing. */
function verdict(input: string | undefined, decoded: string | undefined): string | undefined {
  if (decoded === undefined) return 'missing after the round trip';
  if (input === undefined) return 'appears only after the round trip';
  return input === decoded ? undefined : 'content differs after the round trip';
}

/** Collects up to MAX_DIFFERENCES differences, "<path>: <what>". */
class Differences {
  readonly list: string[] = [];

  judge(p: Buffer, input: string | undefined, decoded: string | undefined): void {
    if (this.list.length >= MAX_DIFFERENCES) return;
    const what = verdict(input, decoded);
    if (what) this.list.push(`${printable(p)}: ${what}`);
  }
}

/** One line of `file` parsed; an unparsable line is an error naming the file and line. */
function parse(file: string, line: Buffer, n: number): Entry {
  const r = parseChecksumsLine(line);
  if (typeof r === 'string') throw new Error(`${file}: line ${n}: ${r}`);
  return r;
}

class Unsorted extends Error {}

/** One list's entries in order, each path once (the first of a repeated path), compared ones left out. */
class SortedSide {
  private readonly cursor: LineCursor;
  private last: Buffer | undefined;

  constructor(
    private readonly file: string,
    private readonly skip: (p: Buffer) => boolean,
  ) {
    this.cursor = new LineCursor(Buffer.from(file), 'CHECKSUMS');
  }

  /** The next entry with a path other than the last one's; throws Unsorted if a path goes back. */
  next(): Entry | undefined {
    for (let line = this.cursor.next(); line !== undefined; line = this.cursor.next()) {
      const e = parse(this.file, line, this.cursor.n);
      if (this.skip(e.path)) continue;
      const order = this.last ? Buffer.compare(e.path, this.last) : 1;
      if (order < 0) throw new Unsorted();
      if (order === 0) continue;
      this.last = e.path;
      return e;
    }
    return undefined;
  }

  close(): void {
    this.cursor.close();
  }
}

/** The merge of the two sorted lists; undefined when either is not sorted (exported for its tests). */
export async function compareSorted(opts: CompareOptions): Promise<string[] | undefined> {
  const skip = skipper(opts);
  const a = new SortedSide(opts.input, skip);
  let b: SortedSide | undefined;
  const differences = new Differences();
  const breather = new Breather();
  try {
    b = new SortedSide(opts.decoded, skip);
    let x = a.next();
    let y = b.next();
    for (let n = 1; x || y; n++) {
      const order = !x ? 1 : !y ? -1 : Buffer.compare(x.path, y.path);
      differences.judge(order <= 0 ? x!.path : y!.path, order <= 0 ? x!.sha256 : undefined, order >= 0 ? y!.sha256 : undefined);
      if (order <= 0) x = a.next();
      if (order >= 0) y = b.next();
      // Millions of lines read synchronously: let signals and GC events in.
      if ((n & 255) === 0 && breather.due && (await breather.breathe())) opts.signal?.throwIfAborted();
    }
    return differences.list;
  } catch (e) {
    if (e instanceof Unsorted) return undefined;
    throw e;
  } finally {
    a.close();
    b?.close();
  }
}

const INPUT = 0x61;
const DECODED = 0x62;

/** Both lists through an external sort by path, then judged path by path (the first line of each side). */
async function compareBySort(opts: CompareOptions): Promise<string[]> {
  const skip = skipper(opts);
  const sorter = new ExternalSorter({ dir: opts.scratch, name: 'self-test' });
  try {
    const load = (file: string, side: number) =>
      readLines(Buffer.from(file), 'CHECKSUMS', async (line, n) => {
        const r = parse(file, line, n);
        if (!skip(r.path)) await sorter.add(r.path, Buffer.from(String.fromCharCode(side) + r.sha256, 'latin1'));
      });
    await load(opts.input, INPUT);
    await load(opts.decoded, DECODED);
    const differences = new Differences();
    let cur: Buffer | undefined;
    let input: string | undefined;
    let decoded: string | undefined;
    for await (const r of sorter.sorted()) {
      if (!cur || !cur.equals(r.key)) {
        if (cur) differences.judge(cur, input, decoded);
        cur = r.key;
        input = decoded = undefined;
      }
      const sha = r.payload.toString('latin1', 1);
      if (r.payload[0] === INPUT) input ??= sha;
      else decoded ??= sha;
    }
    if (cur) differences.judge(cur, input, decoded);
    return differences.list;
  } finally {
    await sorter.close();
  }
}
