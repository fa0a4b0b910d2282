/**
 * Which of two versions of one thing counts (SPEC §3.3): the higher
 * commit_ts wins; on equal commit_ts the later record wins. Every stage that
 * keeps "the newest version so far" decides with this one function.
 */

/** Whether a version with commit_ts `candidate`, arriving after one with `held`, replaces it. */
export function supersedes(candidate: bigint, held: bigint): boolean {
  return candidate >= held;
}
