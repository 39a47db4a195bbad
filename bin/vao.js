#!/usr/bin/env node
// The `vao` command: runs the TypeScript CLI through tsx's require hook (no build step needed).
require('tsx/cjs');
require('../src/cli/main.ts').cliMain();
