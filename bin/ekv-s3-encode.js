#!/usr/bin/env node
import { main } from '../dist/lib/cli/encode-main.js';
import { capYoungGeneration } from '../dist/lib/cli/young-generation.js';
import { limitOldGenerationGrowth } from '../dist/lib/cli/old-generation.js';

capYoungGeneration();
limitOldGenerationGrowth();
process.exit(await main(process.argv.slice(2)));
