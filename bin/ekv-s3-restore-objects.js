#!/usr/bin/env node
import { restoreObjectsMain } from '../dist/lib/cli/restore-objects-main.js';
import { capYoungGeneration } from '../dist/lib/cli/young-generation.js';
import { limitOldGenerationGrowth } from '../dist/lib/cli/old-generation.js';

capYoungGeneration();
limitOldGenerationGrowth();
process.exitCode = await restoreObjectsMain(process.argv.slice(2));
