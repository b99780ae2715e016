/**
 * Options for the signaling scenario: a ramped arrival rate of session
 * create+delete iterations, thresholds that encode the signaling SLOs, and
 * load zones for several geos. No k6 imports, so Node can test it.
 */
import type { Options } from 'k6/options';

export type Env = Record<string, string | undefined>;

/** Signaling SLOs, as seen by a client near its edge. */
export const SLO = {
  /** POST /v1/sessions → 201, p95 and p99 (ms). */
  createP95Ms: 300,
  createP99Ms: 800,
  /** DELETE, p95 (ms). */
  deleteP95Ms: 200,
  /** Share of creations that must succeed (503 with Retry-After counts as a failure here). */
  createSuccessRate: 0.99,
  /** Past this error rate the run stops early: the system is down, not slow. */
  abortErrorRate: 0.1,
} as const;

/** k6 Cloud load zones and their share of the arrival rate (sums to 100). */
export const LOAD_ZONES = {
  'us-east': { loadZone: 'amazon:us:ashburn', percent: 30 },
  'us-west': { loadZone: 'amazon:us:portland', percent: 15 },
  'eu-west': { loadZone: 'amazon:ie:dublin', percent: 25 },
  'ap-southeast': { loadZone: 'amazon:sg:singapore', percent: 15 },
  'sa-east': { loadZone: 'amazon:br:sao paulo', percent: 15 },
} as const;

function num(env: Env, key: string, fallback: number): number {
  const v = env[key];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${key} must be a positive number (got "${v}")`);
  return n;
}

/**
 * PARLEY_RATE: peak session creations per second (default 50);
 * PARLEY_RAMP: ramp-up time (default 2m); PARLEY_HOLD: time at peak
 * (default 5m); PARLEY_MAX_VUS: most concurrent iterations (default 4 × rate).
 */
export function buildOptions(env: Env): Options {
  const rate = num(env, 'PARLEY_RATE', 50);
  const ramp = env.PARLEY_RAMP || '2m';
  const hold = env.PARLEY_HOLD || '5m';
  const maxVUs = Math.ceil(num(env, 'PARLEY_MAX_VUS', rate * 4));
  return {
    scenarios: {
      create_delete: {
        executor: 'ramping-arrival-rate',
        startRate: Math.max(1, Math.round(rate / 10)),
        timeUnit: '1s',
        preAllocatedVUs: Math.min(maxVUs, Math.max(1, Math.ceil(rate))),
        maxVUs,
        stages: [
          { target: rate, duration: ramp },
          { target: rate, duration: hold },
          { target: 0, duration: '30s' },
        ],
        gracefulStop: '30s',
      },
    },
    thresholds: {
      parley_session_create_ms: [`p(95)<${SLO.createP95Ms}`, `p(99)<${SLO.createP99Ms}`],
      parley_session_delete_ms: [`p(95)<${SLO.deleteP95Ms}`],
      parley_session_created: [
        `rate>${SLO.createSuccessRate}`,
        { threshold: `rate>${1 - SLO.abortErrorRate}`, abortOnFail: true, delayAbortEval: '30s' },
      ],
      // Per geo, so one slow region cannot hide behind the others' averages.
      ...Object.fromEntries(
        Object.keys(LOAD_ZONES).map((geo) => [
          `parley_session_create_ms{geo:${geo}}`,
          [`p(95)<${SLO.createP95Ms}`],
        ]),
      ),
    },
    // Iterations are tagged by geo (GEO, or the k6 Cloud load zone's label).
    tags: { service: 'parley-signaling' },
    cloud: {
      name: 'parley signaling: create and delete sessions',
      distribution: LOAD_ZONES,
    },
    // Answers are SDP of a few KB; keep them only for the checks.
    discardResponseBodies: false,
    summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
  };
}

/** The geo an iteration runs from: GEO when set (k6-operator runs), else the cloud load zone's label. */
export function geoOf(env: Env): string {
  return env.GEO || env.K6_CLOUDRUN_DISTRIBUTION || 'local';
}
