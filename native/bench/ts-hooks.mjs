// Node module hooks so `node --import ./native/bench/register.mjs file.ts` runs TypeScript
// straight from src/ (type stripping with the repo's esbuild; NodeNext-style `./x.js`
// imports resolve to `./x.ts`). Only for the bench; nothing ships through this.
import { readFile } from 'node:fs/promises';
import { transform } from 'esbuild';

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && /^\.{1,2}\/.*\.js$/.test(specifier)) {
      return next(specifier.replace(/\.js$/, '.ts'), context);
    }
    throw err;
  }
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const source = await readFile(new URL(url), 'utf8');
    const { code } = await transform(source, {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcefile: url,
      sourcemap: 'inline',
    });
    return { format: 'module', source: code, shortCircuit: true };
  }
  return next(url, context);
}
