import { newSessionId } from '@parley/shared/discovery/session-id.js';
import { describe, expect, it } from 'vitest';
import { bearer, expectProblem, makeApp, ROUTE, StubBroker } from '../../test/signaling-app-harness.js';
import { createSignalingApp } from './app.js';
import { createJwtAuthenticator } from './auth.js';
import type { RestartIceResult } from './session-broker.js';
import { ownerBoundSessionIds } from './session-owner.js';

const FRAG_TYPE = 'application/trickle-ice-sdpfrag';
const FRAG =
  'a=ice-ufrag:nEw1\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n';
const ANSWER_FRAG = 'a=ice-lite\r\na=ice-ufrag:SeRvErUfRaG1\r\na=ice-pwd:serverpasswordserverpass\r\n';

/** The stub broker plus the WHIP PATCH, recording what reached it. */
class RestartBroker extends StubBroker {
  readonly restarts: { sessionId: string; ufrag: string; pwd: string; mid?: string }[] = [];
  nextRestart: RestartIceResult = { ok: true, sdpfrag: ANSWER_FRAG };
  async restartIce(req: { sessionId: string; ufrag: string; pwd: string; mid?: string }) {
    this.restarts.push(req);
    return this.nextRestart;
  }
}

const SECRET_FOR_OWNER = 'owner-secret-that-is-at-least-32-characters';

function setup() {
  const broker = new RestartBroker();
  const { app } = makeApp({ broker, sessionIds: ownerBoundSessionIds(SECRET_FOR_OWNER) });
  return { app, broker };
}

async function patch(
  app: ReturnType<typeof setup>['app'],
  url: string,
  init: { body?: string; type?: string; subject?: string } = {},
): Promise<Response> {
  return app.request(url, {
    method: 'PATCH',
    body: init.body ?? FRAG,
    headers: {
      'Content-Type': init.type ?? FRAG_TYPE,
      'If-Match': '*',
      Authorization: await bearer({ subject: init.subject ?? 'alice' }),
    },
  });
}

describe('PATCH /v1/sessions/:id (WHIP ICE restart)', () => {
  const sessionId = newSessionId(ROUTE);
  const url = `/v1/sessions/${ownerBoundSessionIds(SECRET_FOR_OWNER).publicId(sessionId, 'alice')}`;

  it("forwards the client's new credentials and answers 200 with the transceiver's sdpfrag and an ETag", async () => {
    const { app, broker } = setup();
    const res = await patch(app, url);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe(FRAG_TYPE);
    expect(res.headers.get('ETag')).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(await res.text()).toBe(ANSWER_FRAG);
    expect(broker.restarts).toEqual([
      { sessionId, ufrag: 'nEw1', pwd: 'abcdefghijklmnopqrstuvwx', mid: '0' },
    ]);
  });

  it('answers a trickle-only PATCH (current credentials) with 204', async () => {
    const { app, broker } = setup();
    broker.nextRestart = { ok: true, sdpfrag: '' };
    const res = await patch(app, url);
    expect(res.status).toBe(204);
  });

  it('415s another content type, with Accept-Patch, before the broker', async () => {
    const { app, broker } = setup();
    const res = await patch(app, url, { type: 'application/sdp' });
    await expectProblem(res, 415, /trickle-ice-sdpfrag/);
    expect(res.headers.get('Accept-Patch')).toBe(FRAG_TYPE);
    expect(broker.restarts).toEqual([]);
  });

  it('400s a malformed fragment before the broker', async () => {
    const { app, broker } = setup();
    await expectProblem(await patch(app, url, { body: 'a=ice-ufrag:nEw1\r\n' }), 400, /ice-pwd/);
    await expectProblem(await patch(app, url, { body: 'v=0\r\n' }), 400, /sdpfrag line/);
    expect(broker.restarts).toEqual([]);
  });

  it("404s another user's session exactly like an unknown one, and an unknown session from the broker", async () => {
    const { app, broker } = setup();
    await expectProblem(await patch(app, url, { subject: 'mallory' }), 404);
    expect(broker.restarts).toEqual([]);
    broker.nextRestart = { ok: false, code: 'not_found', detail: 'no such session' };
    await expectProblem(await patch(app, url), 404);
  });

  it('409s a session whose ICE session is not established', async () => {
    const { app, broker } = setup();
    broker.nextRestart = { ok: false, code: 'not_connected', detail: 'session is connecting' };
    const body = await expectProblem(await patch(app, url), 409, /connecting/);
    expect(body.code).toBe('not_connected');
  });

  it('401s without a token', async () => {
    const { app } = setup();
    const res = await app.request(url, {
      method: 'PATCH',
      body: FRAG,
      headers: { 'Content-Type': FRAG_TYPE },
    });
    await expectProblem(res, 401);
  });

  it('405s when the broker cannot restart ICE', async () => {
    const app = createSignalingApp({
      auth: createJwtAuthenticator({ secret: 'test-secret-that-is-at-least-32-characters-long' }),
      broker: new StubBroker(),
      log: (await import('pino')).pino({ level: 'silent' }),
    });
    const res = await app.request(`/v1/sessions/${sessionId}`, {
      method: 'PATCH',
      body: FRAG,
      headers: { 'Content-Type': FRAG_TYPE, Authorization: await bearer() },
    });
    await expectProblem(res, 405);
  });
});
