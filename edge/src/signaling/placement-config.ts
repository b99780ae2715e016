import { z } from 'zod';
import { type ClusterConfig, parseClusterList, parseGeoHints } from './placement.js';

/**
 * The edge's multi-cluster placement settings, as environment variables
 * (spread into SignalingEnv so one error message lists every bad variable).
 */
export const PlacementEnvShape = {
  /** `name[:rttMs],...`: every core cluster this edge may use, with a fallback RTT each. Default: PARLEY_CLUSTER alone. */
  PARLEY_CLUSTERS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return undefined;
      try {
        return parseClusterList(s);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
  /** Request header the deployment's CDN or DNS layer sets to a geo code (e.g. `CloudFront-Viewer-Country`). */
  PARLEY_GEO_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/)
    .optional(),
  /** `CODE:cluster,...`: which cluster a geo code prefers. */
  PARLEY_GEO_HINTS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return undefined;
      try {
        return parseGeoHints(s);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
  /** How often the edge measures its RTT to each cluster over NATS (0 = never; configured RTTs only). */
  PARLEY_CLUSTER_RTT_PROBE_MS: z.coerce.number().int().min(0).max(600_000).default(2_000),
};

export interface PlacementConfig {
  clusters: ClusterConfig[];
  geoHeader?: string;
  geoHints?: Map<string, string>;
  rttProbeMs: number;
}

export function placementConfigOf(env: {
  PARLEY_CLUSTER: string;
  PARLEY_CLUSTERS?: ClusterConfig[] | undefined;
  PARLEY_GEO_HEADER?: string | undefined;
  PARLEY_GEO_HINTS?: Map<string, string> | undefined;
  PARLEY_CLUSTER_RTT_PROBE_MS: number;
}): PlacementConfig {
  return {
    clusters: env.PARLEY_CLUSTERS ?? [{ name: env.PARLEY_CLUSTER }],
    ...(env.PARLEY_GEO_HEADER !== undefined && { geoHeader: env.PARLEY_GEO_HEADER }),
    ...(env.PARLEY_GEO_HINTS !== undefined && { geoHints: env.PARLEY_GEO_HINTS }),
    rttProbeMs: env.PARLEY_CLUSTER_RTT_PROBE_MS,
  };
}
