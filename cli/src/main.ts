#!/usr/bin/env node
// The entry point: turns on V8's compile cache before the CLI's modules are
// loaded (static imports would be loaded before any statement here ran), so
// a process reuses the bytecode an earlier one compiled instead of parsing
// every module again. A restarted relay forwards that much sooner: its
// module loading went from ~420 to ~330 ms on the 2-core dev VM (import
// timings, cache cold vs warm). The cache lives in NODE_COMPILE_CACHE, else
// the OS temp directory; a directory that cannot be written only turns it
// off (NODE_DISABLE_COMPILE_CACHE=1 does so on purpose).
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./program.js');
