#!/usr/bin/env node
// The `parley` command npm links into node_modules/.bin. It is a committed
// file, not dist/main.js itself, because `npm ci` links bins before anything
// is built: a bin pointing into dist/ is skipped on a fresh clone, and
// `npx parley` then went looking for an unrelated package on the registry.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'parley: the CLI is not built yet: run `npm run build` (or `npm start`) in the repository first\n',
  );
  process.exit(1);
}
await import(main.href);
