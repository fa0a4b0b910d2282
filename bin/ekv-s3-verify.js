#!/usr/bin/env node
import { main } from '../dist/lib/cli/verify-main.js';

const code = await main(process.argv.slice(2));
// Exit only once stdout has drained: it may be a pipe.
process.stdout.write('', () => process.exit(code));
