// The JSON API: bearer tokens, scopes, revocation, the referral shape,
// filters and cursor pagination, transitions (with the closure guard and
// optimistic concurrency), notes, grading, export and the OpenAPI document.
import fs from 'node:fs';
import path from 'node:path';
import { Client, createStaff, makeReferral, startHubApp, type HubTestApp } from './fixtures';
import { validate } from './jsonSchema';

let t: HubTestApp;
let full: string;
let readOnly: string;
let exportOnly: string;
const SYSTEM = { type: 'system' as const, id: 'test' };

beforeAll(async () => {
  t = await startHubApp();
  full = (await t.hub.tokens.create({ name: 'partner system', scopes: 'referrals:read,referrals:write' }, SYSTEM)).token;
  readOnly = (await t.hub.tokens.create({ name: 'reader', scopes: ['referrals:read'] }, SYSTEM)).token;
  exportOnly = (await t.hub.tokens.create({ name: 'exporter', scopes: 'export' }, SYSTEM)).token;
});
afterAll(async () => t?.close());

async function api(method: string, p: string, token?: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/api/hub${p}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

describe('authentication and scopes', () => {
  test('no token, a malformed token or an unknown token is 401', async () => {
    for (const h of [undefined, 'sshub_nope', 'not-even-prefixed']) {
      const res = await api('GET', '/referrals', h);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="speaksafe-hub"/);
    }
  });

  test('each route needs its scope', async () => {
    const ref = await makeReferral(t.services);
    expect((await api('GET', '/referrals', readOnly)).status).toBe(200);
    expect((await api('GET', `/referrals/${ref}`, readOnly)).status).toBe(200);
    const write = await api('POST', `/referrals/${ref}/transitions`, readOnly, { to: 'triaged' });
    expect(write.status).toBe(403);
    expect(write.json.error.code).toBe('insufficient_scope');
    expect(write.headers.get('www-authenticate')).toContain('scope="referrals:write"');
    expect((await api('POST', `/referrals/${ref}/notes`, readOnly, { text: 'x' })).status).toBe(403);
    expect((await api('GET', '/referrals', exportOnly)).status).toBe(403);
    expect((await api('GET', '/export.csv', full)).status).toBe(403);
    expect((await api('GET', '/export.csv', exportOnly)).status).toBe(200);
    expect((await api('GET', '/export.json', exportOnly)).status).toBe(200);
    expect((await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref } })).status).toBe('new');
  });

  test('tokens are stored hashed; a revoked token stops working at once', async () => {
    const { token, record } = await t.hub.tokens.create({ name: 'short-lived', scopes: 'referrals:read' }, SYSTEM);
    const stored = await t.services.db.apiToken.findUniqueOrThrow({ where: { id: record.id } });
    expect(stored.tokenHash).not.toContain(token);
    expect(stored.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await api('GET', '/referrals', token)).status).toBe(200);
    await t.hub.tokens.revoke(record.id, SYSTEM);
    const res = await api('GET', '/referrals', token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
  });

  test('an admin creates and revokes tokens in the hub; the token is shown once', async () => {
    await createStaff(t, 'ada', 'admin');
    const c = new Client(t.url);
    await c.login('ada');
    await c.get('/hub/admin/tokens');
    const bad = await c.post('/hub/admin/tokens', { name: 'bad', scopes: 'everything' });
    expect(bad.status).toBe(400);
    const made = await c.post('/hub/admin/tokens', { name: 'Police intelligence system', scopes: ['referrals:read', 'export'] });
    expect(made.status).toBe(201);
    const token = /id="created-token"[^>]*value="([^"]+)"/.exec(made.text)![1]!;
    expect((await api('GET', '/referrals', token)).status).toBe(200);
    const listing = await c.get('/hub/admin/tokens');
    expect(listing.text).not.toContain(token);
    const row = await t.services.db.apiToken.findFirstOrThrow({ where: { name: 'Police intelligence system' } });
    expect((await c.post(`/hub/admin/tokens/${row.id}/revoke`)).status).toBe(303);
    expect((await api('GET', '/referrals', token)).status).toBe(401);
    const actions = (await t.services.db.auditLog.findMany({ where: { target: `token:${row.id}` } })).map((a) => a.action);
    expect(actions).toEqual(['token.create', 'token.revoke']);
  });
});

describe('referrals', () => {
  test('GET /referrals/{reference} returns the referral JSON Schema shape with an ETag', async () => {
    const ref = await makeReferral(t.services, {
      urgency: 'high',
      indicators: ['yp_missing_episodes'],
      entities: { phones: ['+447700900123'] },
      postcodeDistrict: 'BH1',
    });
    await t.services.referrals.addAddendum(ref, { channel: 'test', text: 'More detail.', indicators: [], entities: { phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] } });
    const res = await api('GET', `/referrals/${ref}`, full);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.json).toEqual(await t.services.referrals.getJson(ref));
    const schemaFile = path.join(__dirname, '..', '..', 'docs', 'referral.schema.json');
    if (fs.existsSync(schemaFile)) {
      expect(validate(JSON.parse(fs.readFileSync(schemaFile, 'utf8')), res.json)).toEqual([]);
    }
    expect((await api('GET', '/referrals/ZZZZ-ZZZZ', full)).status).toBe(404);
    const audit = await t.services.db.auditLog.findFirst({ where: { target: `referral:${ref}`, action: 'referral.view', actorType: 'token' } });
    expect(audit).not.toBeNull();
  });

  test('list: urgency order, filters and cursor pagination', async () => {
    const town = 'Dorchester';
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      made.push(await makeReferral(t.services, { town, urgency: (['standard', 'high', 'immediate'] as const)[i % 3], createdAt: new Date(Date.now() - (10 - i) * 60_000) }));
    }
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api('GET', `/referrals?town=${town}&limit=3${cursor ? `&cursor=${cursor}` : ''}`, readOnly);
      expect(res.status).toBe(200);
      seen.push(...res.json.items);
      cursor = res.json.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.map((r) => r.reference).sort()).toEqual([...made].sort());
    const rank = { immediate: 0, high: 1, standard: 2 } as Record<string, number>;
    for (let i = 1; i < seen.length; i++) {
      const a = seen[i - 1];
      const b = seen[i];
      expect(rank[a.urgency]! < rank[b.urgency]! || (a.urgency === b.urgency && a.createdAt <= b.createdAt)).toBe(true);
    }
    const high = await api('GET', `/referrals?town=${town}&urgency=high`, readOnly);
    expect(high.json.items.every((r: any) => r.urgency === 'high')).toBe(true);
    expect(high.json.items.length).toBe(2);
    expect((await api('GET', '/referrals?status=nonsense', readOnly)).status).toBe(400);
    expect((await api('GET', '/referrals?cursor=garbage', readOnly)).status).toBe(400);
    // Crafted cursors (valid JSON, impossible values) are 400 too, never a database error.
    const crafted = (k: unknown) => Buffer.from(JSON.stringify(k)).toString('base64url');
    for (const k of [
      { r: 1e300, t: '2020-01-01T00:00:00.000Z', i: 'x' },
      { r: 1, t: '+275760-09-13T00:00:00.000Z', i: 'x' },
      { r: 1.5, t: '2020-01-01T00:00:00.000Z', i: 'x' },
      { r: 1, t: '2020-01-01T00:00:00.000Z', i: 'x'.repeat(5000) },
      { r: 1, t: '2020-01-01T00:00:00.000Z', i: { $gt: '' } },
    ]) {
      const res = await api('GET', `/referrals?cursor=${crafted(k)}`, readOnly);
      expect({ k: JSON.stringify(k).slice(0, 60), status: res.status }).toEqual({ k: JSON.stringify(k).slice(0, 60), status: 400 });
    }
  });

  test('transitions follow the workflow, with version checks', async () => {
    const ref = await makeReferral(t.services);
    const bad = await api('POST', `/referrals/${ref}/transitions`, full, { to: 'assigned', agency: 'police' });
    expect(bad.status).toBe(409);
    const tri = await api('POST', `/referrals/${ref}/transitions`, full, { to: 'triaged', version: 0 });
    expect(tri.status).toBe(200);
    expect(tri.json.status).toBe('triaged');
    expect(tri.headers.get('etag')).toBe('"v1"');
    const stale = await api('POST', `/referrals/${ref}/transitions`, full, { to: 'assigned', agency: 'police', version: 0 });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('version_conflict');
    const staleIfMatch = await api('POST', `/referrals/${ref}/transitions`, full, { to: 'assigned', agency: 'police' }, { 'if-match': '"v0"' });
    expect(staleIfMatch.status).toBe(409);
    expect((await api('POST', `/referrals/${ref}/transitions`, full, { to: 'assigned', agency: 'spies' })).status).toBe(400);
    const asg = await api('POST', `/referrals/${ref}/transitions`, full, { to: 'assigned', agency: 'police' }, { 'if-match': '"v1"' });
    expect(asg.status).toBe(200);
    expect(asg.json.assignedAgency).toBe('police');
    expect((await api('POST', `/referrals/${ref}/transitions`, full, { to: 'closed', outcome: 'referred_on' })).status).toBe(400);
    const closed = await api('POST', `/referrals/${ref}/transitions`, full, { to: 'closed', outcome: 'referred_on', reason: 'Passed to police.' });
    expect(closed.status).toBe(200);
    expect(closed.json).toMatchObject({ status: 'closed', outcome: 'referred_on', closeReason: 'Passed to police.' });
    const events = await api('GET', `/referrals/${ref}/events`, readOnly);
    expect(events.json.events.map((e: any) => e.toStatus)).toEqual(['triaged', 'assigned', 'closed']);
    expect(events.json.events[0].actor.type).toBe('token');
  });

  test('a token cannot close an urgent or unknown-risk referral (closure guard)', async () => {
    for (const opts of [{ urgency: 'immediate' as const }, { urgency: 'high' as const }, { riskUnknown: true }]) {
      const ref = await makeReferral(t.services, opts);
      await api('POST', `/referrals/${ref}/transitions`, full, { to: 'triaged' });
      const res = await api('POST', `/referrals/${ref}/transitions`, full, { to: 'closed', outcome: 'no_further_action', reason: 'n/a' });
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('needs_supervisor');
      expect(res.json.error.message).toMatch(/A supervisor must approve closing this referral/);
      expect((await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref } })).status).toBe('triaged');
    }
  });

  test('notes and grading', async () => {
    const ref = await makeReferral(t.services);
    const note = await api('POST', `/referrals/${ref}/notes`, full, { text: 'Spoke to the school.' });
    expect(note.status).toBe(201);
    expect(note.json).toMatchObject({ kind: 'note', text: 'Spoke to the school.', reference: ref });
    expect((await api('POST', `/referrals/${ref}/notes`, full, {})).status).toBe(400);
    const graded = await api('POST', `/referrals/${ref}/grading`, full, { sourceEvaluation: '2', intelligenceAssessment: 'C', handlingCode: 'P' });
    expect(graded.status).toBe(200);
    // docs/referral.schema.json has sourceEvaluation as a number; toReferralJson gives the stored string (see docs/hub.md).
    expect({ ...graded.json.grading, sourceEvaluation: String(graded.json.grading.sourceEvaluation) }).toEqual({ sourceEvaluation: '2', intelligenceAssessment: 'C', handlingCode: 'P' });
    expect((await api('POST', `/referrals/${ref}/grading`, full, { sourceEvaluation: '9', intelligenceAssessment: 'C', handlingCode: 'P' })).status).toBe(400);
  });
});

describe('OpenAPI', () => {
  test('the description needs authentication and documents the endpoints', async () => {
    expect((await api('GET', '/openapi.json')).status).toBe(401);
    const res = await api('GET', '/openapi.json', readOnly);
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe('3.1.0');
    expect(Object.keys(res.json.paths)).toEqual(
      expect.arrayContaining(['/referrals', '/referrals/{reference}', '/referrals/{reference}/transitions', '/referrals/{reference}/notes']),
    );
    expect(res.json.components.schemas.Referral).toBeDefined();
    expect(JSON.stringify(res.json)).not.toContain('#/$defs/');
    // Staff signed in to the hub may read it too.
    await createStaff(t, 'tess', 'triager');
    const c = new Client(t.url);
    await c.login('tess');
    expect((await c.get('/api/hub/openapi.json')).status).toBe(200);
  });
});
