// Renders every kustomize overlay (kubectl kustomize, or kustomize build) and
// checks the rendered objects; reports "not run" when neither tool exists.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { k8sDir, rel, subdirs } from './lib/paths.js';
import { findExecutable, notRun, run } from './lib/tools.js';

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are untyped.
type Obj = Record<string, any>;

const kubectl = findExecutable('kubectl', ['/usr/bin/kubectl']);
const kustomize = findExecutable('kustomize');
const overlays = subdirs(join(k8sDir, 'overlays'));
const SECRETISH = /SECRET|TOKEN|KEY|PASSWORD|CREDENTIAL/;

const workloads = (docs: Obj[]) =>
  docs.filter((d) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(d.kind));
const podSpec = (w: Obj): Obj => w.spec.template.spec;
const containers = (w: Obj): Obj[] => [...(podSpec(w).initContainers ?? []), ...podSpec(w).containers];
const byName = (docs: Obj[], kind: string, name: string) =>
  docs.find((d) => d.kind === kind && d.metadata?.name === name);
const envOf = (c: Obj, name: string) => (c.env ?? []).find((e: Obj) => e.name === name);
/** Every UDP containerPort of a workload. */
const transceiverUdpPorts = (w: Obj): number[] =>
  containers(w).flatMap((c) =>
    (c.ports ?? []).filter((p: Obj) => p.protocol === 'UDP').map((p: Obj) => p.containerPort),
  );
/** The transceiver's one ICE port, from its environment (PARLEY_ICE_PORT). */
const icePortOf = (w: Obj): number => {
  const port = Number(envOf(containers(w)[0] as Obj, 'PARLEY_ICE_PORT')?.value);
  expect(Number.isInteger(port) && port >= 1024 && port <= 65535, `PARLEY_ICE_PORT=${port}`).toBe(true);
  return port;
};

/**
 * A transceiver has ONE UDP port, the ICE port all its sessions share: each
 * transceiver workload declares exactly that UDP port, and every policy in
 * front of transceivers admits exactly that UDP port, never a range.
 */
function expectOneIcePort(docs: Obj[]): number {
  const txs = workloads(docs).filter((w) => w.metadata.name === 'parley-transceiver');
  const policies = docs.filter(
    (d) =>
      d.kind === 'NetworkPolicy' &&
      d.spec.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'parley-transceiver',
  );
  for (const tx of txs) {
    const port = icePortOf(tx);
    expect(transceiverUdpPorts(tx), tx.metadata.name).toEqual([port]);
    for (const np of policies) {
      const udp = np.spec.ingress.flatMap((r: Obj) => r.ports ?? []).filter((p: Obj) => p.protocol !== 'TCP');
      expect(udp, np.metadata.name).toEqual([{ protocol: 'UDP', port }]);
    }
  }
  for (const np of docs.filter((d) => d.kind === 'NetworkPolicy'))
    for (const r of np.spec.ingress ?? [])
      for (const p of r.ports ?? []) expect(p.endPort, np.metadata.name).toBeUndefined();
  return txs.length;
}

async function render(dir: string): Promise<Obj[]> {
  const r = kubectl ? await run(kubectl, ['kustomize', dir]) : await run(kustomize as string, ['build', dir]);
  expect(r.ok, `${rel(dir)} failed to render:\n${r.stderr}`).toBe(true);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
}

if (!kubectl && !kustomize) {
  notRun('kustomize render of infra/k8s/overlays', 'neither kubectl nor kustomize is on PATH');
} else {
  it('there are overlays for edge regions and core clusters', () => {
    expect(overlays.map((d) => d.split('/').pop())).toEqual(
      expect.arrayContaining(['edge-region', 'core-cluster']),
    );
  });

  describe.each(overlays.map((d) => [rel(d), d]))('overlay %s', (_name, dir) => {
    let docs: Obj[] = [];
    beforeAll(async () => {
      docs = await render(dir);
    });

    it('renders workloads into a restricted namespace', () => {
      expect(workloads(docs).length).toBeGreaterThan(0);
      const ns = docs.find((d) => d.kind === 'Namespace');
      expect(ns?.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
      for (const d of docs.filter((x) => x.kind !== 'Namespace'))
        expect(d.metadata.namespace, d.kind).toBe(ns?.metadata.name);
    });

    it('uses no host networking, host ports or host namespaces', () => {
      for (const w of workloads(docs)) {
        const spec = podSpec(w);
        expect([spec.hostNetwork, spec.hostPID, spec.hostIPC].filter(Boolean), w.metadata.name).toEqual([]);
        const hostPorts = containers(w).flatMap((c) => (c.ports ?? []).filter((p: Obj) => p.hostPort));
        expect(hostPorts, w.metadata.name).toEqual([]);
      }
    });

    it('runs every container non-root, read-only, without capabilities or a service account token', () => {
      for (const w of workloads(docs)) {
        const spec = podSpec(w);
        expect(spec.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
        expect(spec.securityContext?.seccompProfile?.type, w.metadata.name).toBe('RuntimeDefault');
        expect(spec.automountServiceAccountToken, w.metadata.name).toBe(false);
        for (const c of containers(w)) {
          expect(c.securityContext?.allowPrivilegeEscalation, c.name).toBe(false);
          expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(true);
          expect(c.securityContext?.capabilities?.drop, c.name).toEqual(['ALL']);
          expect(c.image, c.name).toMatch(/^[^:@]+(:[\w.-]+|@sha256:[a-f0-9]{64})$/);
          expect(c.image, c.name).not.toMatch(/:latest$/);
        }
      }
    });

    it('keeps secret values out: no Secret objects, secrets referenced from ExternalSecrets', () => {
      expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
      const external = new Set(
        docs.filter((d) => d.kind === 'ExternalSecret').map((d) => d.spec.target?.name ?? d.metadata.name),
      );
      let secretEnv = 0;
      for (const w of workloads(docs)) {
        for (const c of containers(w)) {
          for (const e of c.env ?? []) {
            if (!SECRETISH.test(e.name)) continue;
            secretEnv++;
            expect(e.value, `${c.name} ${e.name} must not be inline`).toBeUndefined();
            expect(external.has(e.valueFrom?.secretKeyRef?.name), `${c.name} ${e.name}`).toBe(true);
          }
        }
      }
      expect(secretEnv).toBeGreaterThan(0);
      const config = docs.filter((d) => d.kind === 'ConfigMap').flatMap((d) => Object.keys(d.data ?? {}));
      expect(config.filter((k) => SECRETISH.test(k))).toEqual([]);
    });

    it('gives every transceiver exactly one UDP port, admitted as that one port', () => {
      expectOneIcePort(docs);
    });

    it('exposes at most one LoadBalancer: the relay, with exactly one UDP port and the ICE-TCP port', () => {
      const lbs = docs.filter((d) => d.kind === 'Service' && d.spec.type === 'LoadBalancer');
      for (const s of lbs) {
        expect(s.metadata.name).toBe('parley-relay');
        expect(s.spec.ports.map((p: Obj) => [p.protocol, p.port])).toEqual([
          ['UDP', 3478],
          ['TCP', 443],
        ]);
        expect(s.spec.allocateLoadBalancerNodePorts).toBe(false);
        expect(s.spec.externalTrafficPolicy ?? 'Cluster').toBe('Cluster'); // "Local" would allocate a health-check node port
        expect(s.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-healthcheck-port']).toBe(
          '9465',
        );
      }
      expect(docs.filter((d) => d.kind === 'Service' && d.spec.type === 'NodePort')).toEqual([]);
      for (const ing of docs.filter((d) => d.kind === 'Ingress')) {
        expect(JSON.parse(ing.metadata.annotations['alb.ingress.kubernetes.io/listen-ports'])).toEqual([
          { HTTPS: 443 },
        ]);
      }
    });
  });

  describe('edge-region overlay', () => {
    let docs: Obj[] = [];
    beforeAll(async () => {
      docs = await render(join(k8sDir, 'overlays', 'edge-region'));
    });

    it('runs the relay behind a LoadBalancer with one UDP port and ICE-TCP on 443, with a liveness probe', () => {
      const svc = byName(docs, 'Service', 'parley-relay');
      expect(svc?.spec.type).toBe('LoadBalancer');
      expect(svc?.spec.ports).toHaveLength(2);
      const relay = containers(byName(docs, 'Deployment', 'parley-relay') as Obj)[0];
      expect(relay.livenessProbe.httpGet).toEqual({ path: '/metrics', port: 'metrics' });
      expect(relay.ports.find((p: Obj) => p.name === 'relay')).toEqual({
        name: 'relay',
        containerPort: 3478,
        protocol: 'UDP',
      });
      // ICE-TCP: the unprivileged container port behind the Service's 443, and the relay told to listen there.
      expect(relay.ports.find((p: Obj) => p.name === 'relay-tcp')).toEqual({
        name: 'relay-tcp',
        containerPort: 4443,
        protocol: 'TCP',
      });
      expect(relay.env.find((e: Obj) => e.name === 'PARLEY_RELAY_TCP_PORT')?.value).toBe('4443');
      expect(svc?.spec.ports.find((p: Obj) => p.protocol === 'TCP')).toMatchObject({
        port: 443,
        targetPort: 'relay-tcp',
      });
      expect(byName(docs, 'PodDisruptionBudget', 'parley-relay')).toBeDefined();
    });

    it("keeps the relay's V8 compile cache on a writable emptyDir (the root file system is read-only)", () => {
      const deployment = byName(docs, 'Deployment', 'parley-relay') as Obj;
      const relay = containers(deployment)[0];
      const cacheDir = relay.env.find((e: Obj) => e.name === 'NODE_COMPILE_CACHE')?.value as string;
      const mount = (relay.volumeMounts ?? []).find((m: Obj) => cacheDir?.startsWith(`${m.mountPath}/`));
      expect(mount, 'NODE_COMPILE_CACHE must sit under a mounted volume').toBeDefined();
      const volume = podSpec(deployment).volumes.find((v: Obj) => v.name === mount.name);
      expect(volume.emptyDir).toBeDefined();
      expect(mount.readOnly ?? false).toBe(false);
    });

    it('advertises one of the relay EIPs and serves signaling only through the HTTPS Ingress', () => {
      const cm = docs.find((d) => d.kind === 'ConfigMap');
      expect(cm?.data.PARLEY_RELAY_ADVERTISE).toMatch(/^\d+\.\d+\.\d+\.\d+:3478$/);
      // The same EIP on the ICE-TCP port.
      expect(cm?.data.PARLEY_RELAY_TCP_ADVERTISE).toBe(
        `${cm?.data.PARLEY_RELAY_ADVERTISE.split(':')[0]}:443`,
      );
      expect(byName(docs, 'Service', 'parley-edge')?.spec.type).toBe('ClusterIP');
      const edge = containers(byName(docs, 'Deployment', 'parley-edge') as Obj)[0];
      expect(edge.readinessProbe.httpGet.path).toBe('/healthz');
    });
  });

  it('the transceiver base alone also has exactly one UDP port, admitted as that one port', async () => {
    expect(expectOneIcePort(await render(join(k8sDir, 'base', 'transceiver')))).toBe(1);
  });

  describe('core-cluster overlay', () => {
    let docs: Obj[] = [];
    let tx: Obj;
    beforeAll(async () => {
      docs = await render(join(k8sDir, 'overlays', 'core-cluster'));
      tx = byName(docs, 'Deployment', 'parley-transceiver') as Obj;
    });

    it('binds one ICE port on the pod IP, declared as its only UDP port', () => {
      const c = containers(tx)[0];
      expect(envOf(c, 'PARLEY_PRIVATE_ADDRESS')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
      expect(podSpec(tx).hostNetwork).toBeUndefined();
      expect(transceiverUdpPorts(tx)).toEqual([icePortOf(tx)]);
      expect(envOf(c, 'PARLEY_ICE_PORT_MIN')).toBeUndefined();
      expect(envOf(c, 'PARLEY_ICE_PORT_MAX')).toBeUndefined();
    });

    it('drains: PDB, preStop, and a grace period longer than the drain timeout', () => {
      const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget');
      expect(pdb?.spec.selector.matchLabels).toEqual(tx.spec.selector.matchLabels);
      expect(pdb?.spec.maxUnavailable ?? 0).toBeLessThanOrEqual(1);
      const c = containers(tx)[0];
      expect(c.lifecycle?.preStop?.exec?.command?.length).toBeGreaterThan(0);
      const drainMs = Number(envOf(c, 'PARLEY_DRAIN_TIMEOUT_MS')?.value);
      const preStopMs = Number(
        /setTimeout\([^,]+,\s*(\d+)\)/.exec(c.lifecycle.preStop.exec.command.join(' '))?.[1],
      );
      expect(drainMs).toBeGreaterThanOrEqual(60_000);
      expect(podSpec(tx).terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs + preStopMs);
      expect(tx.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    });

    it('admits the one ICE port, and no other UDP, only from private relay CIDRs', () => {
      const np = byName(docs, 'NetworkPolicy', 'parley-transceiver');
      const ice = np?.spec.ingress.filter((r: Obj) => r.ports.some((p: Obj) => p.protocol === 'UDP'));
      expect(ice).toHaveLength(1);
      expect(ice[0].ports).toEqual([{ protocol: 'UDP', port: icePortOf(tx) }]);
      const cidrs: string[] = ice[0].from.map((f: Obj) => f.ipBlock?.cidr);
      expect(cidrs.length).toBeGreaterThan(0);
      for (const c of cidrs) expect(c).toMatch(/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)[\d.]+\/\d+$/);
      expect(np?.spec.policyTypes).toEqual(['Ingress']);
    });

    it('scales on sessions per transceiver', () => {
      const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler');
      expect(hpa?.spec.scaleTargetRef.name).toBe('parley-transceiver');
      const m = hpa?.spec.metrics[0];
      expect(m.type).toBe('Pods');
      expect(m.pods.metric.name).toMatch(/sessions/);
      const capacity = Number(envOf(containers(tx)[0], 'PARLEY_CAPACITY')?.value);
      expect(Number(m.pods.target.averageValue)).toBeLessThan(capacity);
    });
  });
}
