// Static checks on docker/Dockerfile and .dockerignore (no Docker engine is
// needed or used).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dockerDir, repoDir } from './lib/paths.js';

interface Stage {
  from: string;
  name: string;
  lines: string[];
}

let text = '';
const stages: Stage[] = [];
const args = new Map<string, string>();
const workspaces: string[] = JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')).workspaces;

beforeAll(() => {
  text = readFileSync(join(dockerDir, 'Dockerfile'), 'utf8');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const l of lines) {
    const arg = /^ARG (\w+)=(\S+)$/.exec(l);
    if (arg && stages.length === 0) args.set(arg[1], arg[2]);
    const from = /^FROM (\S+)(?: AS (\S+))?$/i.exec(l);
    if (from) stages.push({ from: from[1], name: from[2] ?? '', lines: [] });
    else stages.at(-1)?.lines.push(l);
  }
});

const stage = (name: string) => stages.find((s) => s.name === name) as Stage;
const baseImage = (s: Stage): string => {
  const m = /^\$\{(\w+)\}$/.exec(s.from);
  if (m) return args.get(m[1]) ?? '';
  const parent = stages.find((p) => p.name === s.from);
  return parent ? baseImage(parent) : s.from;
};
const chain = (s: Stage): Stage[] => {
  const parent = stages.find((p) => p.name === s.from);
  return parent ? [s, ...chain(parent)] : [s];
};

describe('docker/Dockerfile', () => {
  it('is multi-stage with one final target per process', () => {
    expect(stages.length).toBeGreaterThanOrEqual(5);
    for (const t of ['relay', 'edge', 'transceiver']) expect(stage(t), t).toBeDefined();
  });

  it('builds on node:24 and runs on a small Node 24 base', () => {
    expect(baseImage(stage('build'))).toMatch(/^node:24(\.\d+)*-(bookworm-)?slim/);
    for (const t of ['relay', 'edge', 'transceiver']) {
      expect(baseImage(stage(t))).toMatch(
        /^(gcr\.io\/distroless\/nodejs24-debian\d+(:nonroot)?|node:24[\w.-]*-slim)/,
      );
    }
  });

  it('runs every process as a non-root user', () => {
    for (const t of ['relay', 'edge', 'transceiver']) {
      const users = chain(stage(t)).flatMap((s) => s.lines.filter((l) => l.startsWith('USER ')));
      expect(users.length, t).toBeGreaterThan(0);
      expect(users[0], t).not.toMatch(/^USER (root|0)(:|$)/);
    }
  });

  it('the runtime installs nothing: the relay needs only node', () => {
    for (const t of ['relay', 'edge', 'transceiver']) {
      const runs = chain(stage(t))
        .filter((s) => !['manifests', 'build', 'prod-deps'].includes(s.name))
        .flatMap((s) => s.lines.filter((l) => l.startsWith('RUN ')));
      expect(runs, t).toEqual([]);
    }
  });

  it('each target starts its own process', () => {
    for (const t of ['relay', 'edge', 'transceiver']) {
      expect(stage(t).lines).toContain(`CMD ["cli/dist/main.js", "${t}"]`);
    }
    expect(stage('relay').lines.join('\n')).toMatch(/EXPOSE .*3478\/udp/);
    // The transceiver has exactly one UDP port: the ICE port every session shares.
    const txExpose = stage('transceiver').lines.filter((l) => l.startsWith('EXPOSE '));
    expect(txExpose.join(' ').match(/\d+\/udp/g)).toEqual(['20000/udp']);
  });

  it("the relay's startup snapshot is built by the runtime image's own Node and copied into the relay's dist", () => {
    // A blob only starts on the Node that built it (cli/src/relay-snapshot.ts).
    const snap = stage('relay-snapshot');
    expect(snap.from).toBe('${RUNTIME_IMAGE}');
    expect(snap.lines.join('\n')).toMatch(
      /RUN \["\/nodejs\/bin\/node", "--snapshot-blob", "\/snapshot\/relay\.blob", "--build-snapshot"/,
    );
    expect(stage('relay').lines).toContain(
      'COPY --from=relay-snapshot /snapshot/relay.blob /snapshot/relay.blob.json cli/dist/',
    );
  });

  it('copies every workspace manifest before npm ci, and every runtime workspace build', () => {
    for (const ws of workspaces)
      expect(stage('manifests').lines, ws).toContain(`COPY ${ws}/package.json ${ws}/`);
    const runtime = stage('runtime').lines.join('\n');
    // infra has no runtime code; native ships its compiled addons instead of a dist/.
    for (const ws of workspaces.filter((w) => w !== 'infra' && w !== 'native')) {
      expect(runtime, ws).toContain(`COPY --from=build /src/${ws}/dist ${ws}/dist`);
    }
    expect(runtime).toContain('COPY --from=build /src/native/load-binding.cjs native/');
    for (const addon of ['udp', 'srtp', 'opus', 'evp']) {
      expect(runtime).toContain(`COPY --from=build /src/native/${addon}/index.cjs native/${addon}/`);
      expect(runtime).toMatch(
        new RegExp(`COPY --from=build /src/native/${addon}/build/Release/parley_${addon}\\.node `),
      );
    }
    // The addons compile from source in the build stage, where CI's rule applies: a failed build is an error.
    const build = stage('build').lines.join('\n');
    expect(build).toMatch(/apt-get install[^\n]*libsrtp2-dev libopus-dev/);
    expect(build).toContain('PARLEY_REQUIRE_NATIVE=1 npm run build');
    expect(stage('prod-deps').lines.join('\n')).toMatch(/npm ci --omit=dev --ignore-scripts/);
  });

  it('puts no secrets in ENV or ARG', () => {
    const decl = text.split('\n').filter((l) => /^\s*(ENV|ARG)\s/.test(l));
    expect(decl.filter((l) => /SECRET|TOKEN|KEY|PASSWORD/i.test(l))).toEqual([]);
  });
});

describe('.dockerignore', () => {
  const ignore = () =>
    readFileSync(join(repoDir, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());

  it('keeps dependencies, builds, VCS data, secrets and Terraform state out of the context', () => {
    for (const p of ['**/node_modules', '**/dist', '.git', '**/.env*', '**/*.tfstate*', '**/.terraform']) {
      expect(ignore(), p).toContain(p);
    }
  });

  it('keeps the infra workspace manifest that npm ci needs', () => {
    expect(ignore()).toContain('infra/*');
    expect(ignore()).toContain('!infra/package.json');
  });
});
