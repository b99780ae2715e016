import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { terraformDir, walk } from './paths.js';

// hcl2json output: every block type maps labels to an array of bodies.
// biome-ignore lint/suspicious/noExplicitAny: HCL JSON is untyped by nature.
export type Body = Record<string, any>;

export interface TfFile {
  path: string;
  dir: string;
  text: string;
  json: Body;
}

export interface Block {
  file: TfFile;
  type: string;
  name: string;
  body: Body;
}

let cache: Promise<TfFile[]> | undefined;

/** Parses every .tf file under infra/terraform once per test file. */
export function loadTerraform(): Promise<TfFile[]> {
  cache ??= Promise.all(
    walk(terraformDir, (n) => n.endsWith('.tf')).map(async (path) => {
      const text = readFileSync(path, 'utf8');
      return { path, dir: dirname(path), text, json: await parse(path, text) };
    }),
  );
  return cache;
}

/** Resources (or data sources) of one type, across the given files. */
export function resources(files: TfFile[], type: string, kind: 'resource' | 'data' = 'resource'): Block[] {
  return files.flatMap((file) =>
    Object.entries((file.json[kind]?.[type] ?? {}) as Record<string, Body[]>).flatMap(([name, bodies]) =>
      bodies.map((body) => ({ file, type, name, body })),
    ),
  );
}

/** Top-level labelled blocks (variable, output, module, provider). */
export function blocks(files: TfFile[], kind: 'variable' | 'output' | 'module' | 'provider'): Block[] {
  return files.flatMap((file) =>
    Object.entries((file.json[kind] ?? {}) as Record<string, Body[]>).flatMap(([name, bodies]) =>
      bodies.map((body) => ({ file, type: kind, name, body })),
    ),
  );
}

/** terraform {} blocks of a directory. */
export function terraformBlocks(files: TfFile[], dir: string): Body[] {
  return files.filter((f) => f.dir === dir).flatMap((f) => (f.json.terraform ?? []) as Body[]);
}

/** Strips hcl2json's "${...}" wrapper from an expression, if any. */
export function expr(value: unknown): string {
  const s = String(value);
  return s.startsWith('${') && s.endsWith('}') ? s.slice(2, -1) : s;
}
