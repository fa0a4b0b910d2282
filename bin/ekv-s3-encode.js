#!/usr/bin/env node
import { main } from '../dist/lib/cli/encode-main.js';

process.exit(await main(process.argv.slice(2)));
