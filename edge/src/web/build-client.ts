import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CLIENT_SOURCE_DIR, DEFAULT_PUBLIC_DIR } from './paths.js';

export interface WebClientBuild {
  /** Paths served, relative to outDir, e.g. `index.html`, `assets/main-3FJ2K7QX.js`. */
  files: string[];
}

/**
 * Bundles the browser client with esbuild (plain TypeScript and CSS, no
 * framework): content-hashed assets under `assets/` so they can be cached
 * forever, and an index.html that names them. Type checking is separate
 * (`tsc -p src/web/client`): esbuild only strips types.
 */
export async function buildWebClient(opts: { outDir: string; minify?: boolean }): Promise<WebClientBuild> {
  const assetsDir = join(opts.outDir, 'assets');
  // Old hashed files would otherwise pile up across builds.
  await rm(opts.outDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });

  const result = await build({
    entryPoints: [join(CLIENT_SOURCE_DIR, 'main.ts')],
    bundle: true,
    format: 'esm',
    // Browsers with RTCDtlsTransport and ES2022; older ones cannot run the call anyway.
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: opts.minify ?? true,
    sourcemap: 'linked',
    entryNames: '[name]-[hash]',
    outdir: assetsDir,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });

  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (!js || !css) throw new Error(`esbuild produced no script or stylesheet: ${outputs.join(', ')}`);

  const favicon = await readFile(join(CLIENT_SOURCE_DIR, 'favicon.svg'));
  const faviconName = `favicon-${createHash('sha256').update(favicon).digest('hex').slice(0, 8)}.svg`;
  await writeFile(join(assetsDir, faviconName), favicon);

  const template = await readFile(join(CLIENT_SOURCE_DIR, 'index.html'), 'utf8');
  const html = fillTemplate(template, { APP_JS: js, APP_CSS: css, FAVICON: faviconName });
  await writeFile(join(opts.outDir, 'index.html'), html);

  const files = ['index.html', ...[...outputs, faviconName].map((f) => `assets/${f}`)];
  return { files };
}

/** Replaces every `%NAME%`; a placeholder left unfilled is a build error, not a broken page. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const html = template.replace(/%([A-Z_]+)%/g, (whole, name: string) => values[name] ?? whole);
  const left = /%[A-Z_]+%/.exec(html);
  if (left) throw new Error(`index.html placeholder ${left[0]} has no value`);
  return html;
}

// `node dist/web/build-client.js [outDir]`: the edge package's build step.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outDir = process.argv[2] ?? DEFAULT_PUBLIC_DIR;
  const { files } = await buildWebClient({ outDir });
  process.stdout.write(`web client: ${files.length} files in ${relative(process.cwd(), outDir) || '.'}\n`);
}
