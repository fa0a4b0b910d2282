#!/usr/bin/env node
import { SIGNAL_EXIT_CODES } from '../dist/lib/cli/common.js';
import { main } from '../dist/lib/cli/main.js';
import { capYoungGeneration } from '../dist/lib/cli/young-generation.js';
import { limitOldGenerationGrowth } from '../dist/lib/cli/old-generation.js';

capYoungGeneration();
limitOldGenerationGrowth();
const code = await main(process.argv.slice(2));
// Interrupted (SIGINT, SIGTERM, SIGHUP, SIGQUIT): the archive on stdout is
// incomplete anyway, so do not wait for a consumer that may never read it again.
if (SIGNAL_EXIT_CODES.includes(code)) process.exit(code);
// Exit only once stdout has drained: it may be a pipe carrying a tar stream.
process.stdout.write('', () => process.exit(code));
