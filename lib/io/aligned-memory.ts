/**
 * Page-aligned memory, for writes with O_DIRECT (lib/io/direct-writer.ts),
 * which need the memory of each write aligned too. Buffer.allocUnsafeSlow's
 * memory and a SharedArrayBuffer's start 16 bytes into a page (glibc's chunk
 * header); a WebAssembly.Memory is mapped by V8 a page at a time. So the
 * direct writer's stages, and the shared memory that input files are read
 * into and values assembled in (lib/io/shared-blocks.ts), are WebAssembly
 * memory: a value that starts on a page boundary there can be written to
 * the disk where it lies, with no copy into a stage.
 */

/** Alignment of direct writes: memory, offset and length (the device's logical block is 512 or 4096 bytes). */
export const DIRECT_ALIGN = 4096;
/** Aligned shared memory comes in these pages. */
export const WASM_PAGE = 64 * 1024;

/** What this file uses of the WebAssembly JS API (not in the TypeScript libraries this project compiles with). */
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => { readonly buffer: ArrayBuffer | SharedArrayBuffer };
};

/** Memory known to start on a page boundary. */
const aligned = new WeakSet<ArrayBufferLike>();

/** A buffer of `bytes` bytes whose first byte is page-aligned. */
export function alignedBuffer(bytes: number): Buffer {
  const memory = new WebAssembly.Memory({ initial: pages(bytes) });
  aligned.add(memory.buffer);
  return Buffer.from(memory.buffer, 0, bytes);
}

/** A SharedArrayBuffer of `bytes` (a whole number of 64 KiB pages) whose first byte is page-aligned. */
export function alignedShared(bytes: number): SharedArrayBuffer {
  if (bytes % WASM_PAGE !== 0) throw new RangeError(`shared aligned memory comes in 64 KiB pages, not ${bytes} bytes`);
  const n = bytes / WASM_PAGE;
  const sab = new WebAssembly.Memory({ initial: n, maximum: n, shared: true }).buffer as SharedArrayBuffer;
  aligned.add(sab);
  return sab;
}

/** Whether bytes[at] lies on a DIRECT_ALIGN boundary of memory (known only for memory from this module). */
export function alignedAt(bytes: Uint8Array, at: number): boolean {
  return (bytes.byteOffset + at) % DIRECT_ALIGN === 0 && aligned.has(bytes.buffer);
}

function pages(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WASM_PAGE));
}
