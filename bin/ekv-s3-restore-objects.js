#!/usr/bin/env node
import { restoreObjectsMain } from '../dist/lib/cli/restore-objects-main.js';

process.exitCode = await restoreObjectsMain(process.argv.slice(2));
