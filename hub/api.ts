// The hub's JSON API under /api/hub, for partner systems.
//
// Authentication: `Authorization: Bearer <token>` with a token an admin made
// (hub page or `npm run hub:token`); each route needs a scope. Tokens have no
// role: for the closure guard they count as a triager, so they cannot close an
// immediate, high or unknown-risk referral (a supervisor does that in the hub).
import type { Referral } from '@prisma/client';
import { isDatabaseUnavailable } from '../bot/db/prisma';
import { referralInclude, toReferralJson } from '../bot/referrals/repository';
import type { ActiveSession } from './auth/sessions';
import type { PublicToken } from './auth/tokens';
import { API_PAGE_SIZE_DEFAULT, API_PAGE_SIZE_MAX, type Scope } from './constants';
import type { Hub } from './core';
import { exportRows, toCsv, toJsonExport } from './export';
import {
  bodyOf,
  field,
  HttpError,
  loggableError,
  mount,
  parseCookies,
  pathParam,
  queryOf,
  send,
  sendJson,
  setSecurityHeaders,
  validReference,
  type HubRequest,
  type HubResponse,
  type RouteServer,
} from './http';
import { buildOpenApi } from './openapi';
import { FilterError, parseFilters, queuePage, type QueueFilters } from './referrals/queue';
import { WorkflowError, type Principal } from './referrals/workflow';
import { SESSION_COOKIE } from './web';

const REALM = 'speaksafe-hub';

interface ApiCtx {
  req: HubRequest;
  res: HubResponse;
  token: PublicToken;
  principal: Principal;
}

class ApiError extends HttpError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, message, code);
  }
}

const bearerOf = (req: HubRequest): string | undefined => {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
};

function etagFor(r: Pick<Referral, 'version'>): string {
  return `"v${r.version}"`;
}

/** The version a client says it saw: body `version`, or an If-Match ETag. */
function expectedVersion(req: HubRequest, body: Record<string, unknown>): number | undefined {
  const v = body.version;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  if (v !== undefined && v !== null) throw new ApiError(400, 'invalid', 'version must be a whole number (the referral version you last saw).');
  const ifMatch = req.headers['if-match'];
  if (typeof ifMatch === 'string') {
    const m = /^(?:W\/)?"v?(\d+)"$/.exec(ifMatch.trim());
    if (!m) throw new ApiError(400, 'invalid', 'If-Match must be an ETag from GET /api/hub/referrals/{reference}.');
    return Number(m[1]);
  }
  return undefined;
}

export function registerApi(hub: Hub, server: RouteServer): void {
  const { db, logger } = hub;

  const onError = (err: unknown, req: HubRequest, res: HubResponse): void => {
    setSecurityHeaders(res, hub.isSecure(req));
    if (err instanceof ApiError) {
      sendJson(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
      return;
    }
    if (err instanceof WorkflowError) {
      sendJson(res, err.status, { error: { code: err.code, message: err.message } });
      return;
    }
    if (err instanceof HttpError) {
      sendJson(res, err.status, { error: { code: err.code, message: err.message } });
      return;
    }
    if (isDatabaseUnavailable(err)) {
      logger.warn({ err: loggableError(err), route: req.url?.split('?')[0] }, 'hub API request refused: database unavailable');
      sendJson(res, 503, { error: { code: 'unavailable', message: 'The database is busy or unavailable; nothing was changed. Retry shortly.' } }, { 'Retry-After': '5' });
      return;
    }
    logger.error({ err: loggableError(err), route: req.url?.split('?')[0] }, 'hub API request failed');
    sendJson(res, 500, { error: { code: 'internal', message: 'The request could not be completed.' } });
  };

  const authenticate = async (req: HubRequest, scope: Scope | null): Promise<ApiCtx['token']> => {
    const token = await hub.tokens.authenticate(bearerOf(req));
    if (!token) {
      throw new ApiError(401, 'unauthorized', 'A valid bearer token is required.', {
        'WWW-Authenticate': `Bearer realm="${REALM}"${bearerOf(req) ? ', error="invalid_token"' : ''}`,
      });
    }
    if (scope && !token.scopeList.includes(scope)) {
      await hub.audit.record({ type: 'token', id: token.id }, { action: 'access.denied', detail: { route: req.url?.split('?')[0], needs: scope } });
      throw new ApiError(403, 'insufficient_scope', `This token lacks the "${scope}" scope.`, {
        'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"`,
      });
    }
    return token;
  };

  const route = (method: 'GET' | 'POST', path: string, scope: Scope, fn: (ctx: ApiCtx) => Promise<void>): void => {
    mount(
      server,
      hub.routes,
      method,
      path,
      async (req, res) => {
        setSecurityHeaders(res, hub.isSecure(req));
        const token = await authenticate(req, scope);
        const principal: Principal = { actor: { type: 'token', id: token.id }, role: null, scopes: token.scopeList, eventActorId: `token:${token.id}` };
        await fn({ req, res, token, principal });
      },
      onError,
    );
  };

  const filtersOf = (req: HubRequest): QueueFilters => {
    try {
      return parseFilters(queryOf(req));
    } catch (e) {
      if (e instanceof FilterError) throw new ApiError(400, 'invalid_filter', e.message);
      throw e;
    }
  };

  const referenceOf = (req: HubRequest): string => {
    const ref = pathParam(req, 'reference');
    if (!validReference(ref)) throw new ApiError(404, 'not_found', 'No referral with that reference.');
    return ref;
  };

  const sendReferral = async (res: HubResponse, reference: string, status = 200): Promise<void> => {
    const row = await db.referral.findUnique({ where: { reference }, include: referralInclude });
    if (!row) throw new ApiError(404, 'not_found', 'No referral with that reference.');
    sendJson(res, status, toReferralJson(row), { ETag: etagFor(row) });
  };

  // ---------------------------------------------------------------- OpenAPI
  // Any valid token, or a signed-in member of staff, may read the description.
  mount(
    server,
    hub.routes,
    'GET',
    '/api/hub/openapi.json',
    async (req, res) => {
      setSecurityHeaders(res, hub.isSecure(req));
      let staff: ActiveSession | null = null;
      if (!bearerOf(req)) {
        const cookies = parseCookies(req.headers.cookie);
        const secure = hub.isSecure(req);
        staff = await hub.sessions.lookup(cookies[secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE]);
      }
      if (!staff) await authenticate(req, null);
      sendJson(res, 200, buildOpenApi(hub.services.config.publicBaseUrl));
    },
    onError,
  );

  // ---------------------------------------------------------------- referrals
  route('GET', '/api/hub/referrals', 'referrals:read', async ({ req, res, principal }) => {
    const filters = filtersOf(req);
    const q = queryOf(req);
    const limitRaw = field(q, 'limit');
    if (limitRaw !== undefined && !/^\d+$/.test(limitRaw)) throw new ApiError(400, 'invalid', 'limit must be a whole number.');
    const limit = Math.min(API_PAGE_SIZE_MAX, Math.max(1, limitRaw ? Number(limitRaw) : API_PAGE_SIZE_DEFAULT));
    let page;
    try {
      page = await queuePage(db, { filters, targets: hub.targets, cursor: field(q, 'cursor'), limit, include: referralInclude });
    } catch (e) {
      if (e instanceof FilterError) throw new ApiError(400, 'invalid_cursor', e.message);
      throw e;
    }
    await hub.audit.record(principal.actor, { action: 'queue.view', detail: { filters, count: page.items.length, api: true } });
    sendJson(res, 200, { items: page.items.map(toReferralJson), nextCursor: page.nextCursor });
  });

  route('GET', '/api/hub/referrals/:reference', 'referrals:read', async ({ req, res, principal }) => {
    const reference = referenceOf(req);
    if (!(await hub.services.referrals.exists(reference))) throw new ApiError(404, 'not_found', 'No referral with that reference.');
    await hub.audit.record(principal.actor, { action: 'referral.view', target: `referral:${reference}`, detail: { api: true } });
    await sendReferral(res, reference);
  });

  route('GET', '/api/hub/referrals/:reference/events', 'referrals:read', async ({ req, res, principal }) => {
    const reference = referenceOf(req);
    const row = await db.referral.findUnique({ where: { reference }, select: { id: true } });
    if (!row) throw new ApiError(404, 'not_found', 'No referral with that reference.');
    const events = await hub.workflow.events(row.id);
    await hub.audit.record(principal.actor, { action: 'referral.events_view', target: `referral:${reference}`, detail: { api: true } });
    sendJson(res, 200, {
      reference,
      events: events.map((e) => ({
        id: e.id,
        createdAt: e.createdAt.toISOString(),
        kind: e.kind,
        actor: e.actorId ? (e.actorId.startsWith('token:') ? { type: 'token', id: e.actorId.slice(6) } : { type: 'staff', id: e.actorId }) : { type: 'system' },
        ...(e.fromStatus ? { fromStatus: e.fromStatus } : {}),
        ...(e.toStatus ? { toStatus: e.toStatus } : {}),
        ...(e.kind === 'note' ? { text: e.body } : { detail: safeParse(e.body) }),
      })),
    });
  });

  route('POST', '/api/hub/referrals/:reference/transitions', 'referrals:write', async ({ req, res, principal }) => {
    const reference = referenceOf(req);
    const body = bodyOf(req);
    const to = field(body, 'to');
    if (!to) throw new ApiError(400, 'invalid', 'Give "to": one of triaged, assigned, closed.');
    try {
      await hub.workflow.transition(principal, reference, {
        to,
        agency: field(body, 'agency'),
        outcome: field(body, 'outcome'),
        reason: field(body, 'reason'),
        expectedVersion: expectedVersion(req, body),
      });
    } catch (e) {
      if (e instanceof WorkflowError && (e.code === 'needs_supervisor' || e.code === 'forbidden')) {
        await hub.audit.record(principal.actor, { action: 'referral.denied', target: `referral:${reference}`, detail: { code: e.code, api: true } });
      }
      throw e;
    }
    await sendReferral(res, reference);
  });

  route('POST', '/api/hub/referrals/:reference/notes', 'referrals:write', async ({ req, res, principal }) => {
    const reference = referenceOf(req);
    const body = bodyOf(req);
    if (typeof body.text !== 'string') throw new ApiError(400, 'invalid', 'Give the note as "text".');
    const ev = await hub.workflow.addNote(principal, reference, body.text);
    sendJson(res, 201, { id: ev.id, reference, createdAt: ev.createdAt.toISOString(), kind: 'note', text: ev.body });
  });

  route('POST', '/api/hub/referrals/:reference/grading', 'referrals:write', async ({ req, res, principal }) => {
    const reference = referenceOf(req);
    const body = bodyOf(req);
    await hub.workflow.grade(principal, reference, {
      sourceEvaluation: field(body, 'sourceEvaluation') ?? '',
      intelAssessment: field(body, 'intelligenceAssessment') ?? field(body, 'intelAssessment') ?? '',
      handlingCode: field(body, 'handlingCode') ?? '',
      expectedVersion: expectedVersion(req, body),
    });
    await sendReferral(res, reference);
  });

  // ---------------------------------------------------------------- export
  route('GET', '/api/hub/export.csv', 'export', async ({ req, res, principal }) => {
    const filters = filtersOf(req);
    const result = await exportRows(db, filters, hub.targets);
    await hub.audit.record(principal.actor, { action: 'export.csv', detail: { filters, count: result.rows.length, truncated: result.truncated, api: true } });
    send(res, 200, 'text/csv; charset=utf-8', toCsv(result.rows, hub.labels, hub.targets), {
      'Content-Disposition': 'attachment; filename="speaksafe-referrals.csv"',
    });
  });

  route('GET', '/api/hub/export.json', 'export', async ({ req, res, principal }) => {
    const filters = filtersOf(req);
    const result = await exportRows(db, filters, hub.targets);
    await hub.audit.record(principal.actor, { action: 'export.json', detail: { filters, count: result.rows.length, truncated: result.truncated, api: true } });
    sendJson(res, 200, toJsonExport(result, filters));
  });
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
