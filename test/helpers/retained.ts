/**
 * The bytes of every ArrayBuffer reachable from a value through its fields
 * (arrays, maps, sets and objects followed; functions not), each counted
 * once: what a structure holds outside the JavaScript heap.
 */
export function arrayBufferBytes(root: unknown, shared: object[] = []): number {
  const buffers = new Set<ArrayBufferLike>();
  // Structures the root uses but does not own are not followed.
  const seen = new Set<object>(shared);
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) return void buffers.add(v.buffer);
    if (v instanceof ArrayBuffer) return void buffers.add(v);
    if (v instanceof Map) {
      for (const [k, x] of v) {
        visit(k);
        visit(x);
      }
      return;
    }
    if (v instanceof Set || Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    for (const x of Object.values(v)) visit(x);
  };
  visit(root);
  let total = 0;
  for (const b of buffers) total += b.byteLength;
  return total;
}
