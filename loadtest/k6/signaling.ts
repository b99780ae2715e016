/**
 * Signaling load for Parley: each iteration POSTs a realistic offer to
 * /v1/sessions, checks the answer, holds the session briefly and DELETEs it.
 *
 *   k6 run -e PARLEY_EDGE_URL=https://edge.example.com -e PARLEY_TOKEN=$TOKEN loadtest/k6/signaling.ts
 *   k6 cloud run loadtest/k6/signaling.ts       (load zones from k6-options.ts)
 *
 * See loadtest/k6/README.md; k6-operator TestRun manifests are in operator/.
 */

import { check, sleep } from 'k6';
import { randomBytes } from 'k6/crypto';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import { buildOptions, geoOf } from './k6-options.ts';
import { makeOffer } from './sdp-offer.ts';

export const options = buildOptions(__ENV);

const EDGE = (__ENV.PARLEY_EDGE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const TOKEN = __ENV.PARLEY_TOKEN || '';
const AGENT = __ENV.PARLEY_AGENT || 'rtp-echo';
/** How long a session stays up before its DELETE (seconds). */
const HOLD_SECONDS = Number(__ENV.PARLEY_SESSION_HOLD || '1');

const createMs = new Trend('parley_session_create_ms', true);
const deleteMs = new Trend('parley_session_delete_ms', true);
const created = new Rate('parley_session_created');
const shed = new Counter('parley_session_shed');

const random = (n: number): number[] => Array.from(new Uint8Array(randomBytes(n)));

export default function (): void {
  const geo = geoOf(__ENV);
  const tags = { geo };
  const auth: Record<string, string> = TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {};
  const res = http.post(`${EDGE}/v1/sessions?agent=${encodeURIComponent(AGENT)}`, makeOffer(random), {
    headers: { 'Content-Type': 'application/sdp', ...auth },
    tags: { ...tags, name: 'POST /v1/sessions' },
  });
  const ok = check(res, {
    'created (201)': (r) => r.status === 201,
    'Location names the session': (r) =>
      /^\/v1\/sessions\/[A-Za-z0-9_-]+$/.test(String(r.headers.Location ?? '')),
    'answer is SDP with one candidate': (r) =>
      String(r.headers['Content-Type'] ?? '').startsWith('application/sdp') &&
      (String(r.body ?? '').match(/^a=candidate:/gm) ?? []).length === 1,
  });
  created.add(ok, tags);
  if (res.status === 201) createMs.add(res.timings.duration, tags);
  if (res.status === 503) {
    // Load shedding, by design: Retry-After says when to come back.
    shed.add(1, { ...tags, retry_after: String(res.headers['Retry-After'] ?? '') });
    return;
  }
  // Other failures are counted by the checks and parley_session_created (k6's http metrics keep the status).
  if (!ok) return;
  sleep(HOLD_SECONDS);
  const del = http.del(`${EDGE}${String(res.headers.Location)}`, null, {
    headers: auth,
    tags: { ...tags, name: 'DELETE /v1/sessions/{id}' },
  });
  check(del, { 'deleted (2xx)': (r) => r.status >= 200 && r.status < 300 });
  deleteMs.add(del.timings.duration, tags);
}
