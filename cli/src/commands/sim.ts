import type { Command } from 'commander';

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description(
      'multi-region simulation on this machine (Linux, root): network namespaces per edge region, core region and client geo, WAN delays from the topology RTT matrix, a NATS super-cluster, every Parley process in its region',
    )
    .option(
      '--report',
      'run calls from every client geo and print the per-geo table, then the failover drills',
    )
    .option('--json', 'with --report: one JSON object instead of the table')
    .option('--calls <n>', 'calls per client geo', '5')
    .option('--seconds <s>', 'media seconds per call', '3')
    .option('--edges <list>', 'edge regions to run (comma-separated; default all in the topology)')
    .option('--cores <list>', 'core regions to run')
    .option('--geos <list>', 'client geos to run')
    .option(
      '--no-drill',
      'skip the failover drills (overflow, relay restart, gateway cut, core region killed)',
    )
    .option(
      '--capacity',
      'print the capacity model (markdown) for --sessions over the topology, from the bench results in results/, and exit',
    )
    .option('--sessions <n>', 'with --capacity: concurrent sessions', '1000000')
    .option('--session-seconds <s>', 'with --capacity: mean session length', '300')
    .option('--results <dir>', 'with --capacity: where the bench JSON is (default: the repository results/)')
    .option('--cleanup', 'remove namespaces a crashed run left behind (ps????-*), and exit')
    .addHelpText(
      'after',
      '\nTopology: infra/terraform/examples/three-edge-two-core/topology/regions.json (also read by Terraform).\n' +
        'Without --report the simulation stays up until Ctrl-C. Everything it made is removed on exit, also on Ctrl-C.',
    )
    .action(
      async (o: {
        report?: boolean;
        json?: boolean;
        calls: string;
        seconds: string;
        edges?: string;
        cores?: string;
        geos?: string;
        drill: boolean;
        cleanup?: boolean;
        capacity?: boolean;
        sessions: string;
        sessionSeconds: string;
        results?: string;
      }) => {
        for (const [flag, v] of [
          ['--calls', o.calls],
          ['--seconds', o.seconds],
          ['--sessions', o.sessions],
          ['--session-seconds', o.sessionSeconds],
        ] as const) {
          if (!/^[1-9][0-9]*$/.test(v)) {
            process.stderr.write(`${flag} must be a positive integer\n`);
            process.exit(2);
          }
        }
        if (o.capacity) {
          const { readTopologyFile } = await import('@parley/loadtest/sim/topology.js');
          const { readCapacityInputs, CapacityInputError } = await import(
            '@parley/loadtest/sim/capacity-inputs.js'
          );
          const { capacityModel, capacityMarkdown } = await import('@parley/loadtest/sim/capacity-model.js');
          const { fileURLToPath } = await import('node:url');
          const file = readTopologyFile();
          const edges = Object.keys(file.edges);
          let inputs: ReturnType<typeof readCapacityInputs>;
          try {
            inputs = readCapacityInputs(
              o.results ?? fileURLToPath(new URL('../../../results', import.meta.url)),
            );
          } catch (e) {
            if (!(e instanceof CapacityInputError)) throw e;
            process.stderr.write(`parley sim --capacity: ${e.message}\n`);
            process.exit(1);
          }
          const assumptions = {
            sessions: Number(o.sessions),
            sessionSeconds: Number(o.sessionSeconds),
            utilization: 0.7,
            edgeShare: Object.fromEntries(edges.map((e) => [e, 1 / edges.length])),
            edgeCore: Object.fromEntries(edges.map((e) => [e, file.edges[e]?.core as string])),
            cores: Object.keys(file.cores),
            announcementsPerTransceiverPerSecond: 1,
          };
          const model = capacityModel(inputs, assumptions);
          process.stdout.write(
            capacityMarkdown(
              inputs,
              assumptions,
              model,
              `parley sim --capacity --sessions ${o.sessions} --session-seconds ${o.sessionSeconds}`,
            ),
          );
          return;
        }
        const { listOurNamespaces, removeNamespace, checkPrerequisites } = await import(
          '@parley/loadtest/sim/netns.js'
        );
        if (o.cleanup) {
          const left = await listOurNamespaces();
          for (const ns of left) await removeNamespace(ns);
          process.stdout.write(`removed ${left.length} namespace(s)\n`);
          return;
        }
        const list = (s?: string) => (s ? s.split(',').map((x) => x.trim()) : undefined);
        const { buildTopology, readTopologyFile } = await import('@parley/loadtest/sim/topology.js');
        const { startSim } = await import('@parley/loadtest/sim/sim-stack.js');
        const { runGeoCalls, drillKillCore, drillOverflow, drillRelayRestart, drillGatewayCut, measureMesh } =
          await import('@parley/loadtest/sim/scenarios.js');
        const { formatGeoTable } = await import('@parley/loadtest/sim/report.js');
        const { mintDevToken } = await import('@parley/edge/signaling/auth.js');
        const say = (s: string) => process.stderr.write(`${s}\n`);
        let sim: Awaited<ReturnType<typeof startSim>> | undefined;
        let stopping = false;
        const stop = async (code: number) => {
          if (stopping) return;
          stopping = true;
          say('parley sim: removing namespaces and processes...');
          await sim?.stop();
          process.exit(code);
        };
        process.on('SIGINT', () => void stop(130));
        process.on('SIGTERM', () => void stop(143));
        try {
          await checkPrerequisites();
          const topo = buildTopology(readTopologyFile(), {
            ...(list(o.edges) && { edges: list(o.edges) }),
            ...(list(o.cores) && { cores: list(o.cores) }),
            ...(list(o.geos) && { geos: list(o.geos) }),
          });
          say(
            `parley sim: ${topo.cores.length} core, ${topo.edges.length} edge regions, ${topo.geos.length} client geos; starting...`,
          );
          sim = await startSim({ topo });
          const token = await mintDevToken(sim.jwtSecret, { subject: 'sim', ttlSeconds: 24 * 3600 });
          for (const e of topo.edges)
            say(`edge ${e}: ${sim.edgeUrl(e)}  relay ${sim.relayAddress(e)}  (namespace ${sim.nsOf(e)})`);
          if (!o.report) {
            say(`token: ${token}\nready (Ctrl-C stops and removes everything)`);
            await new Promise(() => {});
          }
          say('mesh: announcement age and request RTT from every edge to every cluster...');
          const mesh = await measureMesh(sim);
          const geos = await runGeoCalls(sim, token, { calls: Number(o.calls), seconds: Number(o.seconds) });
          // Each drill leaves the world as it found it, except the last, which kills a core region.
          const failover: Record<string, unknown> = {};
          if (o.drill) {
            const geo = topo.geos[topo.geos.length > 1 ? 1 : 0] as string;
            say('drill: overflow (fill the nearest cluster)...');
            failover.overflow = await drillOverflow(sim, token, { geo });
            await new Promise((r) => setTimeout(r, 2_000));
            say('drill: relay killed and restarted mid-call...');
            failover.relayRestart = await drillRelayRestart(sim, token, { geo });
            if (topo.cores.length > 1) {
              say('drill: gateway link cut and restored...');
              failover.gatewayCut = await drillGatewayCut(sim, token, { geo });
              say('drill: kill a whole core region...');
              failover.killCore = await drillKillCore(sim, token, { geo: topo.geos[0] as string });
            }
          }
          const delay = await sim.delayStats();
          if (o.json) process.stdout.write(`${JSON.stringify({ geos, failover, mesh, delay })}\n`);
          else {
            process.stdout.write(`${formatGeoTable(geos)}\n`);
            for (const m of mesh)
              process.stdout.write(
                `\nmesh ${m.edge} → ${m.cluster}: request rtt p50 ${m.requestRttMs?.p50} ms (matrix ${m.predictedRttMs}), announcement age p50 ${m.announceAgeMs?.p50} ms max ${m.announceAgeMs?.max}`,
              );
            process.stdout.write('\n');
            for (const [name, figure] of Object.entries(failover))
              process.stdout.write(`\nfailover ${name}: ${JSON.stringify(figure)}`);
            process.stdout.write('\n');
            process.stdout.write(`delay element: ${JSON.stringify(delay)}\n`);
          }
          await stop(0);
        } catch (e) {
          say(`parley sim failed: ${(e as Error).message}`);
          await stop(1);
        }
      },
    );
}
