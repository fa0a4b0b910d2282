#!/usr/bin/env node
import { main } from '../dist/lib/cli/verify-main.js';
import { capYoungGeneration } from '../dist/lib/cli/young-generation.js';
import { limitOldGenerationGrowth } from '../dist/lib/cli/old-generation.js';

capYoungGeneration();
limitOldGenerationGrowth();
const code = await main(process.argv.slice(2));
// Exit only once stdout has drained: it may be a pipe.
process.stdout.write('', () => process.exit(code));
