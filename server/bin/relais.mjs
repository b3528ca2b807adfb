#!/usr/bin/env node
// The `relais` command. TypeScript sources run through tsx's loader: no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
const code = await runCli(process.argv.slice(2));
// Long-running commands (serve, worker) keep the event loop alive; the others end here.
if (code !== 0) process.exit(code);
