#!/usr/bin/env node
import { main } from '../dist/lib/cli/main.js';

const code = await main(process.argv.slice(2));
// Interrupted (SIGINT/SIGTERM): the archive on stdout is incomplete anyway, so
// do not wait for a consumer that may never read it again.
if (code === 130 || code === 143) process.exit(code);
// Exit only once stdout has drained: it may be a pipe carrying a tar stream.
process.stdout.write('', () => process.exit(code));
