/**
 * Makes V8 collect its old generation once it has grown by
 * OLD_GENERATION_GROWTH_PERCENT % beyond what the last full collection
 * kept, instead of by V8's own factor (up to 4×, the larger the faster its
 * collections are next to the program — and a decoder's old generation is
 * small, 20–30 MiB alive, so they are fast).
 *
 * Why: under the capped young generation (young-generation.ts) an object
 * that lives through two scavenges — a record waiting for its hash, a
 * planned object waiting for its body — is promoted to the old generation
 * and dies there soon after. With V8's factor that garbage piled up between
 * full collections: V8's old space went from 25 to 45 MiB in the last phase
 * of a million-object decode, its peak. At 20 % a full collection of that
 * heap comes ~2–3× as often, each a few milliseconds
 * (docs/PERFORMANCE.md, "The old generation's growth").
 *
 * V8 reads `--heap-growing-percent` whenever it sets the next limit, so
 * setting it at run time works, and a worker thread's start does not undo
 * it (Node 20 and 24; test/old-generation.test.ts).
 * For command-line entry points only.
 */
import v8 from 'node:v8';

export const OLD_GENERATION_GROWTH_PERCENT = 20;

/** From now on, V8 collects the old generation after it has grown by `percent` %. */
export function limitOldGenerationGrowth(percent = OLD_GENERATION_GROWTH_PERCENT): void {
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
