/** The function each bin (bin/*.js) calls, by the bin's file name: what test/e2e/cli-host.ts can run in a thread. */
type Main = (argv: string[]) => Promise<number>;

export const MAINS: Record<string, () => Promise<Main>> = {
  'ekv-s3-decode.js': async () => (await import('../../lib/cli/main.js')).main,
  'ekv-s3-encode.js': async () => (await import('../../lib/cli/encode-main.js')).main,
  'ekv-s3-verify.js': async () => (await import('../../lib/cli/verify-main.js')).main,
  'ekv-snapshot-jsonl.js': async () => (await import('../../lib/cli/convert-main.js')).main,
  'ekv-s3-restore-objects.js': async () => (await import('../../lib/cli/restore-objects-main.js')).restoreObjectsMain,
};
