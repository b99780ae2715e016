import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const infraDir = fileURLToPath(new URL('../..', import.meta.url));
export const repoDir = join(infraDir, '..');
export const terraformDir = join(infraDir, 'terraform');
export const modulesDir = join(terraformDir, 'modules');
export const examplesDir = join(terraformDir, 'examples');
export const k8sDir = join(infraDir, 'k8s');
export const dockerDir = join(repoDir, 'docker');

const skipDirs = new Set(['.terraform', 'node_modules', '.git']);

/** Every file under dir whose name passes keep (skips .terraform and node_modules). */
export function walk(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (!skipDirs.has(name)) out.push(...walk(full, keep));
    } else if (keep(name)) {
      out.push(full);
    }
  }
  return out.sort();
}

/** Directories directly under dir. */
export function subdirs(dir: string): string[] {
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isDirectory())
    .sort();
}

/**
 * Terraform configurations: every module, and every example directory holding
 * .tf files (roots, and the shared modules under an example's stacks/).
 */
export function terraformConfigDirs(): { modules: string[]; examples: string[] } {
  const hasTf = (d: string) => readdirSync(d).some((n) => n.endsWith('.tf'));
  const withStacks = (d: string) => (basename(d) === 'stacks' ? subdirs(d) : [d]);
  return {
    modules: subdirs(modulesDir).filter(hasTf),
    examples: subdirs(examplesDir).flatMap(subdirs).flatMap(withStacks).filter(hasTf),
  };
}

export const rel = (p: string) => relative(repoDir, p);
