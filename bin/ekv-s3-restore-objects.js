#!/usr/bin/env node
import { restoreObjectsMain } from '../dist/lib/cli/restore-objects-main.js';
import { capYoungGeneration } from '../dist/lib/cli/young-generation.js';

capYoungGeneration();
process.exitCode = await restoreObjectsMain(process.argv.slice(2));
