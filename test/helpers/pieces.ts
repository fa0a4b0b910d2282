/**
 * Pieces written through a run writer (lib/io/serial-writer.ts,
 * lib/io/direct-writer.ts) or copied (lib/core/copy-bytes.ts) in their
 * tests: deterministic bytes, and a queue of pieces laid one after another
 * in the file.
 */

/** n bytes, byte i = (i * 7 + seed) & 0xff. */
export function piece(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** What the run writers share: append a piece at its position, called back once it is in the file. */
export interface PieceWriter {
  write(buf: Buffer, position: number, done: (err?: Error | null) => void): void;
}

/** Queues every piece at once, one after another in the file; resolves when all are written (onWritten(i) as each calls back). */
export function writeAll(w: PieceWriter, pieces: Buffer[], onWritten: (i: number) => void = () => {}): Promise<void[]> {
  let at = 0;
  return Promise.all(
    pieces.map((p, i) => {
      const position = at;
      at += p.length;
      return new Promise<void>((resolve, reject) => w.write(p, position, (err) => (err ? reject(err) : (onWritten(i), resolve()))));
    }),
  );
}
