// The hub's server-rendered pages under /hub.
//
// Every route except the sign-in form and the stylesheet needs a signed-in
// member of staff; every POST form carries the session's CSRF token; role
// rules are checked here and again in the services (the closure guard lives
// in referrals/workflow.ts so the JSON API obeys it too).
import fs from 'node:fs';
import path from 'node:path';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { isDatabaseUnavailable } from '../bot/db/prisma';
import { ENTITY_KINDS, referralInclude, toReferralJson } from '../bot/referrals/repository';
import type { Actor } from './audit';
import type { ActiveSession } from './auth/sessions';
import { randomToken, safeEqual } from './auth/sessions';
import { parseScopes, TokenError } from './auth/tokens';
import { UserError } from './auth/users';
import {
  AGENCIES,
  DASHBOARD_WEEKS_DEFAULT,
  DASHBOARD_WEEKS_MAX,
  HANDLING_CODES,
  INTEL_ASSESSMENTS,
  LOCKOUT_MINUTES,
  LOCKOUT_THRESHOLD,
  OUTCOMES,
  QUEUE_PAGE_SIZE,
  ROLES,
  SCOPES,
  SOURCE_EVALUATIONS,
  type Role,
} from './constants';
import type { Hub } from './core';
import { buildDashboard } from './dashboard';
import { exportRows, toCsv, toJsonExport } from './export';
import {
  appendSetCookie,
  bodyOf,
  field,
  HttpError,
  loggableError,
  mount,
  parseCookies,
  pathParam,
  queryOf,
  redirect,
  send,
  sendHtml,
  sendJson,
  serializeCookie,
  setSecurityHeaders,
  toQueryString,
  validReference,
  type HubRequest,
  type HubResponse,
  type RouteServer,
} from './http';
import { humanise, type HubLabels } from './labels';
import { findLinkedReferrals } from './referrals/links';
import {
  CONCERN_TYPES,
  dueAt,
  FilterError,
  filtersToQuery,
  overdueMinutes,
  parseFilters,
  queuePage,
  RESIDENCIES,
  STATUS_FILTERS,
  targetMinutes,
  type QueueFilters,
} from './referrals/queue';
import { closureGuardReason, closureNeedsSupervisor, isSupervisor, WorkflowError, type Principal } from './referrals/workflow';
import { hubAssetDir } from './render';

export const SESSION_COOKIE = 'ss_hub';
export const LOGIN_COOKIE = 'ss_hub_login';
const cookieName = (base: string, secure: boolean): string => (secure ? `__Host-${base}` : base);

interface WebCtx {
  req: HubRequest;
  res: HubResponse;
  staff: ActiveSession;
  principal: Principal;
  role: Role;
  csrf: string;
}

const SUPERVISOR_ROLES: Role[] = ['supervisor', 'admin'];
/** Retry-After for a 503 while the database is busy or unreachable. */
const RETRY_AFTER_SECONDS = 5;
const ADMIN_ROLES: Role[] = ['admin'];

const DONE_MESSAGES: Record<string, string> = {
  triage: 'Referral triaged.',
  assign: 'Referral assigned.',
  reassign: 'Referral reassigned.',
  close: 'Referral closed.',
  reopen: 'Referral reopened.',
  note: 'Note added.',
  grade: 'Grading saved.',
  'closure-requested': 'Closure requested. A supervisor will review it.',
  'closure-approved': 'Closure approved: the referral is closed.',
  'closure-declined': 'Closure request declined.',
  'user-created': 'Account created.',
  'user-disabled': 'Account disabled and signed out.',
  'user-enabled': 'Account enabled.',
  'user-unlocked': 'Account unlocked.',
  'user-password': 'Password set. The account was signed out everywhere.',
  'token-revoked': 'Token revoked. It no longer works.',
  'password-changed': 'Your password has been changed.',
};

const USER_ACTION_NAMES: Record<string, string> = { password: 'New password', disable: 'Disable', enable: 'Enable', unlock: 'Unlock' };

/** The page a form was posted from: /hub/referrals/K7MW-2QX3/notes → /hub/referrals/K7MW-2QX3. */
function pageOfForm(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path
    .replace(/^(\/hub\/referrals\/[^/]+)\/.+$/, '$1')
    .replace(/^(\/hub\/admin\/(?:users|tokens))\/.+$/, '$1')
    .replace(/^(\/hub\/(?:account|audit))\/.+$/, '$1');
}

function sessionEnded(kind: string | undefined, idleMinutes: number): string | undefined {
  const why = `You were signed out because the hub had not been used for ${idleMinutes} minutes`;
  if (kind === '1') return `${why}. Sign in again to carry on where you were.`;
  if (kind === 'form') return `${why}, so what you sent was not saved. Sign in again to go back to the page and do it again.`;
  return undefined;
}

function safeNext(next: string | undefined): string {
  if (next && /^\/hub(\/[A-Za-z0-9/_.\-?=&%]*)?$/.test(next) && !next.startsWith('//') && !next.includes('/../')) return next;
  return '/hub/queue';
}

export function registerWeb(hub: Hub, server: RouteServer): void {
  const { db, logger, L } = hub;
  const staticDir = hubAssetDir('static');
  // The idle sign-out and its warning: 5 minutes before, or halfway for a short limit (WCAG 2.2.1).
  const idleMinutes = hub.services.config.HUB_SESSION_IDLE_MINUTES;
  const idleWarning = { idleSeconds: idleMinutes * 60, warnMinutes: Math.min(5, Math.floor(idleMinutes / 2)) };

  const render = (res: HubResponse, template: string, status: number, vars: Record<string, unknown>, ctx?: WebCtx): void => {
    const html = hub.env.render(template, {
      ...vars,
      ...(ctx
        ? {
            user: { username: ctx.staff.user.username, role: ctx.role, roleLabel: L.ROLE_LABELS[ctx.role] },
            csrf: ctx.csrf,
            idleWarning,
            isSupervisor: SUPERVISOR_ROLES.includes(ctx.role),
            isAdmin: ctx.role === 'admin',
          }
        : {}),
    });
    sendHtml(res, status, html);
  };

  const onError = (err: unknown, req: HubRequest, res: HubResponse): void => {
    setSecurityHeaders(res, hub.isSecure(req));
    if (err instanceof HttpError) {
      render(res, 'error.njk', err.status, { title: err.status === 404 ? 'Page not found' : 'Something went wrong', message: err.message });
      return;
    }
    if (isDatabaseUnavailable(err)) {
      // Locked (a backup, the CLI) or unreachable: nothing was changed; try again.
      logger.warn({ err: loggableError(err), route: req.url?.split('?')[0] }, 'hub page refused: database unavailable');
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      render(res, 'error.njk', 503, {
        title: 'The hub is busy',
        message: 'The database is busy or unavailable, so nothing was changed. Wait a moment and try again.',
      });
      return;
    }
    logger.error({ err: loggableError(err), route: req.url?.split('?')[0] }, 'hub page failed');
    render(res, 'error.njk', 500, { title: 'Something went wrong', message: 'The hub could not complete that request. Try again; if it keeps happening, tell an admin.' });
  };

  const staffPrincipal = (s: ActiveSession): Principal => ({
    actor: { type: 'staff', id: s.user.id },
    role: (ROLES as readonly string[]).includes(s.user.role) ? (s.user.role as Role) : 'triager',
    eventActorId: s.user.id,
  });

  /** Authenticate, check CSRF (POST) and role, then run the page. */
  const page = (
    method: 'GET' | 'POST',
    routePath: string,
    options: { roles?: Role[] },
    fn: (ctx: WebCtx) => Promise<void>,
  ): void => {
    mount(
      server,
      hub.routes,
      method,
      routePath,
      async (req, res) => {
        const secure = hub.isSecure(req);
        setSecurityHeaders(res, secure);
        const cookies = parseCookiesOf(req);
        const staff = await hub.sessions.lookup(cookies[cookieName(SESSION_COOKIE, secure)]);
        if (!staff) {
          // Back to the same page after signing in: for a form, the page it was on (what was typed is lost,
          // and the sign-in page says so when the session had ended).
          const next = safeNext(method === 'GET' ? req.url ?? '/hub/queue' : pageOfForm(req.url ?? ''));
          const hadSession = Boolean(cookies[cookieName(SESSION_COOKIE, secure)]);
          redirect(res, `/hub/login${toQueryString({ next: next === '/hub/queue' ? undefined : next, ended: hadSession ? (method === 'POST' ? 'form' : '1') : undefined })}`);
          return;
        }
        const principal = staffPrincipal(staff);
        const ctx: WebCtx = { req, res, staff, principal, role: principal.role!, csrf: staff.session.csrfToken };
        if (method === 'POST') {
          const token = field(bodyOf(req), '_csrf');
          if (!token || !safeEqual(token, staff.session.csrfToken)) {
            await hub.audit.record(principal.actor, { action: 'csrf.rejected', detail: { route: routePath } });
            render(res, 'error.njk', 403, {
              title: 'This form has expired',
              message: 'The form was not accepted because its security token was missing or out of date. Go back, reload the page and try again.',
            }, ctx);
            return;
          }
        }
        if (options.roles && !options.roles.includes(ctx.role)) {
          await hub.audit.record(principal.actor, { action: 'access.denied', detail: { route: routePath, role: ctx.role } });
          render(res, 'error.njk', 403, {
            title: 'Not allowed',
            message: `This page is for ${options.roles.map((r) => L.ROLE_LABELS[r].toLowerCase()).join(' or ')} accounts.`,
          }, ctx);
          return;
        }
        await fn(ctx);
      },
      onError,
    );
  };

  const parseCookiesOf = (req: HubRequest): Record<string, string> => parseCookies(req.headers.cookie);

  // ------------------------------------------------------------------ static
  const STATIC_FILES: Array<[file: string, type: string]> = [
    ['hub.css', 'text/css; charset=utf-8'],
    ['session.js', 'text/javascript; charset=utf-8'],
  ];
  for (const [file, type] of STATIC_FILES) {
    const body = fs.readFileSync(path.join(staticDir, file));
    mount(
      server,
      hub.routes,
      'GET',
      `/hub/static/${file}`,
      async (req, res) => {
        setSecurityHeaders(res, hub.isSecure(req));
        send(res, 200, type, body, { 'Cache-Control': 'public, max-age=3600' });
      },
      onError,
      { public: true },
    );
  }

  // ------------------------------------------------------------------ sign in
  const renderLogin = (req: HubRequest, res: HubResponse, status: number, error?: string, username?: string): void => {
    const secure = hub.isSecure(req);
    const token = randomToken();
    appendSetCookie(res, serializeCookie(cookieName(LOGIN_COOKIE, secure), token, { secure, maxAgeSeconds: 3600 }));
    render(res, 'login.njk', status, {
      title: 'Sign in',
      loginCsrf: token,
      error,
      username,
      next: field(queryOf(req), 'next'),
      ended: error ? undefined : sessionEnded(field(queryOf(req), 'ended'), idleMinutes),
    });
  };

  mount(
    server,
    hub.routes,
    'GET',
    '/hub/login',
    async (req, res) => {
      const secure = hub.isSecure(req);
      setSecurityHeaders(res, secure);
      const staff = await hub.sessions.lookup(parseCookiesOf(req)[cookieName(SESSION_COOKIE, secure)]);
      if (staff) return redirect(res, '/hub/queue');
      renderLogin(req, res, 200);
    },
    onError,
    { public: true },
  );

  const GENERIC_LOGIN_ERROR = `Sign-in failed. Check your username and password. After ${LOCKOUT_THRESHOLD} failed attempts an account is locked for ${LOCKOUT_MINUTES} minutes; an admin can unlock it sooner.`;

  mount(
    server,
    hub.routes,
    'POST',
    '/hub/login',
    async (req, res) => {
      const secure = hub.isSecure(req);
      setSecurityHeaders(res, secure);
      const body = bodyOf(req);
      const cookies = parseCookiesOf(req);
      const formToken = field(body, '_csrf');
      const cookieToken = cookies[cookieName(LOGIN_COOKIE, secure)];
      if (!formToken || !cookieToken || !safeEqual(formToken, cookieToken)) {
        await hub.audit.record({ type: 'system', id: null }, { action: 'csrf.rejected', detail: { route: '/hub/login' } });
        return renderLogin(req, res, 403, 'The sign-in form expired. Please try again.');
      }
      const username = (field(body, 'username') ?? '').slice(0, 100);
      const password = (field(body, 'password') ?? '').slice(0, 1000);
      // Each attempt takes a point before it is checked (so simultaneous guesses can't all get through);
      // a successful sign-in gives its point back.
      const source = hub.sourceKey(req);
      try {
        await hub.loginLimiter.consume(source);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(e.msBeforeNext / 1000))));
        return renderLogin(req, res, 429, 'Too many failed sign-ins from your network. Wait a few minutes and try again.', username);
      }
      const result = await hub.users.signIn(username, password);
      if (!result.ok) return renderLogin(req, res, 401, GENERIC_LOGIN_ERROR, username);
      await hub.loginLimiter.reward(source, 1);
      // A fresh session on every sign-in; any earlier one in this browser ends.
      await hub.sessions.destroy(cookies[cookieName(SESSION_COOKIE, secure)]);
      const { cookieValue } = await hub.sessions.create(result.user.id);
      appendSetCookie(
        res,
        serializeCookie(cookieName(SESSION_COOKIE, secure), cookieValue, { secure, maxAgeSeconds: hub.services.config.HUB_SESSION_HOURS * 3600 }),
      );
      appendSetCookie(res, serializeCookie(cookieName(LOGIN_COOKIE, secure), '', { secure, maxAgeSeconds: 0 }));
      redirect(res, safeNext(field(body, 'next')));
    },
    onError,
    { public: true },
  );

  page('POST', '/hub/logout', {}, async (ctx) => {
    const secure = hub.isSecure(ctx.req);
    await hub.sessions.destroy(parseCookiesOf(ctx.req)[cookieName(SESSION_COOKIE, secure)]);
    await hub.audit.record(ctx.principal.actor, { action: 'logout', target: `user:${ctx.staff.user.id}` });
    appendSetCookie(ctx.res, serializeCookie(cookieName(SESSION_COOKIE, secure), '', { secure, maxAgeSeconds: 0 }));
    redirect(ctx.res, '/hub/login');
  });

  page('GET', '/hub', {}, async (ctx) => redirect(ctx.res, '/hub/queue'));

  // "Stay signed in": a signed-in request (with its CSRF token) keeps the session going.
  page('POST', '/hub/session/keepalive', {}, async (ctx) => {
    await hub.sessions.touch(ctx.staff.session.id);
    send(ctx.res, 204, 'text/plain; charset=utf-8', '');
  });

  // ------------------------------------------------------------------ queue
  const filterOptions = () => ({
    statuses: STATUS_FILTERS.map((s) => ({ value: s, label: s === 'open' ? 'Open (not closed)' : s === 'all' ? 'All' : L.STATUS_LABELS[s] })),
    urgencies: ['immediate', 'high', 'standard'].map((u) => ({ value: u, label: L.URGENCY_LABELS[u] })),
    towns: (hub.services.content?.area?.towns ?? []).map((t) => t.name),
    concernTypes: CONCERN_TYPES.map((c) => ({ value: c, label: L.CONCERN_LABELS[c] })),
    residencies: RESIDENCIES.map((r) => ({ value: r, label: L.RESIDENCY_LABELS[r] })),
    indicators: hub.labels.all(),
  });

  page('GET', '/hub/queue', {}, async (ctx) => {
    const query = queryOf(ctx.req);
    let filters: QueueFilters;
    try {
      filters = parseFilters(query);
    } catch (e) {
      if (e instanceof FilterError) throw new HttpError(400, `That filter is not valid: ${e.message}.`);
      throw e;
    }
    let pageResult;
    try {
      pageResult = await queuePage(db, {
        filters,
        targets: hub.targets,
        cursor: field(query, 'after'),
        limit: QUEUE_PAGE_SIZE,
        include: { indicators: { select: { code: true } } },
      });
    } catch (e) {
      if (e instanceof FilterError) throw new HttpError(400, 'That page link is not valid. Start again from the first page.');
      throw e;
    }
    const now = new Date();
    const items = pageResult.items.map((r) => ({
      reference: r.reference,
      urgency: r.urgency,
      status: r.status,
      createdAt: r.createdAt,
      waitedMinutes: Math.floor((now.getTime() - r.createdAt.getTime()) / 60_000),
      overdueMinutes: overdueMinutes(hub.targets, r, now),
      riskUnknown: r.riskUnknown,
      concernType: r.concernType,
      town: r.locationTown,
      ageBand: r.subjectAgeBand,
      residency: r.subjectResidency,
      indicators: r.indicators.map((i) => hub.labels.label(i.code)),
      assignedAgency: r.assignedAgency,
    }));
    await hub.audit.record(ctx.principal.actor, { action: 'queue.view', detail: { filters, count: items.length, page: field(query, 'after') ? 'next' : 'first' } });
    const fq = filtersToQuery(filters);
    render(ctx.res, 'queue.njk', 200, {
      title: 'Referral queue',
      nav: 'queue',
      filters,
      options: filterOptions(),
      items,
      nextLink: pageResult.nextCursor ? `/hub/queue${toQueryString({ ...fq, after: pageResult.nextCursor })}` : null,
      firstLink: field(query, 'after') ? `/hub/queue${toQueryString(fq)}` : null,
      exportQuery: toQueryString(fq),
      targets: hub.targets,
      done: DONE_MESSAGES[field(query, 'done') ?? ''],
    }, ctx);
  });

  // ------------------------------------------------------------------ referral page
  const actorNames = async (ids: Array<string | null>): Promise<Map<string, string>> => {
    const names = new Map<string, string>();
    const userIds = [...new Set(ids.filter((i): i is string => !!i && !i.startsWith('token:')))];
    const tokenIds = [...new Set(ids.filter((i): i is string => !!i && i.startsWith('token:')).map((i) => i.slice(6)))];
    if (userIds.length) {
      for (const u of await db.staffUser.findMany({ where: { id: { in: userIds } }, select: { id: true, username: true } })) names.set(u.id, u.username);
    }
    if (tokenIds.length) {
      for (const t of await db.apiToken.findMany({ where: { id: { in: tokenIds } }, select: { id: true, name: true } })) names.set(`token:${t.id}`, `API token “${t.name}”`);
    }
    return names;
  };

  const loadReferral = async (reference: string) => {
    if (!validReference(reference)) throw new HttpError(404, 'There is no referral with that reference.');
    const row = await db.referral.findUnique({ where: { reference }, include: { ...referralInclude, contact: { select: { referralId: true } } } });
    if (!row) throw new HttpError(404, 'There is no referral with that reference.');
    return row;
  };

  const showReferral = async (
    ctx: WebCtx,
    reference: string,
    status: number,
    extra: { error?: string; done?: string; contact?: string | null; form?: Record<string, string | undefined> } = {},
  ): Promise<void> => {
    const row = await loadReferral(reference);
    const json = toReferralJson(row);
    const now = new Date();
    const [events, pending, linked] = await Promise.all([
      hub.workflow.events(row.id),
      hub.workflow.pendingClosure(row.id),
      findLinkedReferrals(db, row.id),
    ]);
    const names = await actorNames([...events.map((e) => e.actorId), pending?.requestedBy ?? null]);
    const history = events.map((e) => {
      let body: Record<string, unknown> | null = null;
      if (e.kind !== 'note') {
        try {
          body = JSON.parse(e.body) as Record<string, unknown>;
        } catch {
          body = null;
        }
      }
      return {
        kind: e.kind,
        createdAt: e.createdAt,
        actor: e.actorId ? names.get(e.actorId) ?? 'former account' : 'system',
        fromStatus: e.fromStatus,
        toStatus: e.toStatus,
        text: e.kind === 'note' ? e.body : null,
        body,
        approvedBy: body && typeof body.approvedBy === 'string' ? names.get(body.approvedBy) ?? null : null,
      };
    });
    const entities = (Object.entries(json.entities) as Array<[string, string[]]>).flatMap(([k, values]) =>
      values.map((value) => ({ kind: entityLabel(L, k), value })),
    );
    const guarded = closureNeedsSupervisor(row);
    const supervisor = isSupervisor(ctx.principal);
    render(ctx.res, 'referral.njk', status, {
      title: `Referral ${row.reference}`,
      nav: 'queue',
      r: row,
      json,
      indicators: json.indicators.map((c) => hub.labels.get(c)),
      reasons: json.reasons,
      entities,
      addenda: json.addenda.map((a) => ({
        ...a,
        indicators: a.indicators.map((c: string) => hub.labels.label(c)),
        entities: (Object.entries(a.entities ?? {}) as Array<[string, string[]]>).flatMap(([k, vs]) =>
          (vs ?? []).map((value) => ({ kind: entityLabel(L, k), value })),
        ),
      })),
      linked,
      history,
      pending: pending ? { ...pending, requestedByName: pending.requestedBy ? names.get(pending.requestedBy) ?? 'former account' : 'unknown' } : null,
      waitedMinutes: Math.floor((now.getTime() - row.createdAt.getTime()) / 60_000),
      overdue: overdueMinutes(hub.targets, row, now),
      dueAt: dueAt(hub.targets, row),
      targetMinutes: targetMinutes(hub.targets, row.urgency),
      hasContact: Boolean(row.contact),
      contact: extra.contact,
      guarded,
      guardReason: guarded ? closureGuardReason(row) : null,
      canClose: !guarded || supervisor,
      agencies: AGENCIES.map((a) => ({ value: a, label: L.AGENCY_LABELS[a] })),
      outcomes: OUTCOMES.map((o) => ({ value: o, label: L.OUTCOME_LABELS[o] })),
      sourceEvaluations: SOURCE_EVALUATIONS.map((v) => ({ value: v, label: L.SOURCE_EVALUATION_LABELS[v] })),
      intelAssessments: INTEL_ASSESSMENTS.map((v) => ({ value: v, label: L.INTEL_ASSESSMENT_LABELS[v] })),
      handlingCodes: HANDLING_CODES.map((v) => ({ value: v, label: L.HANDLING_CODE_LABELS[v] })),
      error: extra.error,
      done: extra.done,
      form: extra.form ?? {},
    }, ctx);
  };

  page('GET', '/hub/referrals/:reference', {}, async (ctx) => {
    const reference = pathParam(ctx.req, 'reference');
    await loadReferral(reference);
    await hub.audit.record(ctx.principal.actor, { action: 'referral.view', target: `referral:${reference}` });
    await showReferral(ctx, reference, 200, { done: DONE_MESSAGES[field(queryOf(ctx.req), 'done') ?? ''] });
  });

  /** Run a change; on a rule failure show the referral page with the message and the right status. */
  const change = async (
    ctx: WebCtx,
    reference: string,
    fn: () => Promise<string>,
    form: Record<string, string | undefined>,
  ): Promise<void> => {
    await loadReferral(reference);
    try {
      const done = await fn();
      redirect(ctx.res, `/hub/referrals/${encodeURIComponent(reference)}?done=${encodeURIComponent(done)}#main`);
    } catch (e) {
      if (e instanceof WorkflowError) {
        if (e.code === 'needs_supervisor' || e.code === 'forbidden') {
          await hub.audit.record(ctx.principal.actor, { action: 'referral.denied', target: `referral:${reference}`, detail: { code: e.code } });
        }
        await showReferral(ctx, reference, e.status, { error: e.message, form });
        return;
      }
      throw e;
    }
  };

  const versionOf = (body: Record<string, unknown>): number | undefined => {
    const v = field(body, 'version');
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };

  page('POST', '/hub/referrals/:reference/transition', {}, async (ctx) => {
    const reference = pathParam(ctx.req, 'reference');
    const body = bodyOf(ctx.req);
    const action = field(body, 'action');
    const to = action === 'triage' || action === 'reopen' ? 'triaged' : action === 'assign' ? 'assigned' : action === 'close' ? 'closed' : '';
    const form = { action, agency: field(body, 'agency'), outcome: field(body, 'outcome'), reason: field(body, 'reason') };
    await change(
      ctx,
      reference,
      async () => {
        const before = await db.referral.findUnique({ where: { reference }, select: { status: true } });
        if (action === 'reopen' && before?.status !== 'closed') throw new WorkflowError('conflict', 'Only a closed referral can be reopened.');
        if (action === 'triage' && before?.status === 'closed') throw new WorkflowError('conflict', 'This referral is closed; reopen it instead.');
        await hub.workflow.transition(ctx.principal, reference, {
          to,
          agency: form.agency,
          outcome: form.outcome,
          reason: form.reason,
          expectedVersion: versionOf(body) ?? -1,
        });
        return action === 'assign' && before?.status === 'assigned' ? 'reassign' : action ?? '';
      },
      form,
    );
  });

  page('POST', '/hub/referrals/:reference/closure-request', {}, async (ctx) => {
    const reference = pathParam(ctx.req, 'reference');
    const body = bodyOf(ctx.req);
    const form = { action: 'request', outcome: field(body, 'outcome'), reason: field(body, 'reason') };
    await change(
      ctx,
      reference,
      async () => {
        await hub.workflow.requestClosure(ctx.principal, reference, { outcome: form.outcome, reason: form.reason, expectedVersion: versionOf(body) ?? -1 });
        return 'closure-requested';
      },
      form,
    );
  });

  page('POST', '/hub/referrals/:reference/closure-decision', { roles: SUPERVISOR_ROLES }, async (ctx) => {
    const reference = pathParam(ctx.req, 'reference');
    const body = bodyOf(ctx.req);
    const approve = field(body, 'decision') === 'approve';
    await change(
      ctx,
      reference,
      async () => {
        await hub.workflow.decideClosure(ctx.principal, reference, {
          approve,
          note: field(body, 'note'),
          eventId: field(body, 'eventId'),
          expectedVersion: versionOf(body) ?? -1,
        });
        return approve ? 'closure-approved' : 'closure-declined';
      },
      { action: 'decision', note: field(body, 'note') },
    );
  });

  page('POST', '/hub/referrals/:reference/notes', {}, async (ctx) => {
    const reference = pathParam(ctx.req, 'reference');
    const body = bodyOf(ctx.req);
    await change(
      ctx,
      reference,
      async () => {
        await hub.workflow.addNote(ctx.principal, reference, field(body, 'text'));
        return 'note';
      },
      { action: 'note', text: field(body, 'text') },
    );
  });

  page('POST', '/hub/referrals/:reference/grading', {}, async (ctx) => {
    const reference = pathParam(ctx.req, 'reference');
    const body = bodyOf(ctx.req);
    const form = {
      action: 'grade',
      sourceEvaluation: field(body, 'sourceEvaluation'),
      intelAssessment: field(body, 'intelAssessment'),
      handlingCode: field(body, 'handlingCode'),
    };
    await change(
      ctx,
      reference,
      async () => {
        await hub.workflow.grade(ctx.principal, reference, {
          sourceEvaluation: form.sourceEvaluation ?? '',
          intelAssessment: form.intelAssessment ?? '',
          handlingCode: form.handlingCode ?? '',
          expectedVersion: versionOf(body) ?? -1,
        });
        return 'grade';
      },
      form,
    );
  });

  page('POST', '/hub/referrals/:reference/contact', { roles: SUPERVISOR_ROLES }, async (ctx) => {
    const reference = pathParam(ctx.req, 'reference');
    await loadReferral(reference);
    const contact = await hub.services.referrals.readContact(reference);
    await hub.audit.record(ctx.principal.actor, { action: 'referral.contact_view', target: `referral:${reference}`, detail: { present: contact !== null } });
    await showReferral(ctx, reference, 200, { contact: contact ?? '' });
  });

  // ------------------------------------------------------------------ export
  const exportFilters = (ctx: WebCtx): QueueFilters => {
    try {
      return parseFilters(queryOf(ctx.req));
    } catch (e) {
      if (e instanceof FilterError) throw new HttpError(400, `That filter is not valid: ${e.message}.`);
      throw e;
    }
  };

  page('GET', '/hub/export.csv', { roles: SUPERVISOR_ROLES }, async (ctx) => {
    const filters = exportFilters(ctx);
    const result = await exportRows(db, filters, hub.targets);
    const csv = toCsv(result.rows, hub.labels, hub.targets);
    await hub.audit.record(ctx.principal.actor, { action: 'export.csv', detail: { filters, count: result.rows.length, truncated: result.truncated } });
    send(ctx.res, 200, 'text/csv; charset=utf-8', csv, { 'Content-Disposition': `attachment; filename="speaksafe-referrals-${stamp()}.csv"` });
  });

  page('GET', '/hub/export.json', { roles: SUPERVISOR_ROLES }, async (ctx) => {
    const filters = exportFilters(ctx);
    const result = await exportRows(db, filters, hub.targets);
    await hub.audit.record(ctx.principal.actor, { action: 'export.json', detail: { filters, count: result.rows.length, truncated: result.truncated } });
    sendJson(ctx.res, 200, toJsonExport(result, filters), { 'Content-Disposition': `attachment; filename="speaksafe-referrals-${stamp()}.json"` });
  });

  // ------------------------------------------------------------------ dashboard
  page('GET', '/hub/dashboard', {}, async (ctx) => {
    const w = field(queryOf(ctx.req), 'weeks');
    const weeks = w && /^\d+$/.test(w) ? Math.min(DASHBOARD_WEEKS_MAX, Math.max(1, Number(w))) : DASHBOARD_WEEKS_DEFAULT;
    const dashboard = await buildDashboard(db, { weeks, labels: hub.labels, hubLabels: L, targets: hub.targets });
    await hub.audit.record(ctx.principal.actor, { action: 'dashboard.view', detail: { weeks } });
    render(ctx.res, 'dashboard.njk', 200, { title: 'Dashboard', nav: 'dashboard', d: dashboard, weekChoices: [4, 12, 26, 52] }, ctx);
  });

  // ------------------------------------------------------------------ audit log (admin)
  const showAudit = async (ctx: WebCtx, status: number, verify?: Awaited<ReturnType<Hub['audit']['verify']>>): Promise<void> => {
    const q = queryOf(ctx.req);
    const before = field(q, 'before');
    // A sequence number is a 32-bit integer: anything else starts from the newest entry.
    const beforeSeq = before && /^\d{1,10}$/.test(before) && Number(before) <= 2_147_483_647 ? Number(before) : undefined;
    const rows = await hub.audit.list({ before: beforeSeq, limit: 100 });
    const names = await actorNames(rows.map((r) => (r.actorType === 'token' && r.actorId ? `token:${r.actorId}` : r.actorId)));
    render(ctx.res, 'audit.njk', status, {
      title: 'Audit log',
      nav: 'audit',
      rows: rows.map((r) => ({
        ...r,
        actor:
          r.actorType === 'system'
            ? r.actorId ? names.get(r.actorId) ?? 'system' : 'system'
            : r.actorType === 'token'
              ? names.get(`token:${r.actorId}`) ?? `token ${r.actorId}`
              : names.get(r.actorId ?? '') ?? r.actorId,
      })),
      nextLink: rows.length === 100 ? `/hub/audit?before=${rows[rows.length - 1]!.seq}` : null,
      verify,
    }, ctx);
  };

  page('GET', '/hub/audit', { roles: ADMIN_ROLES }, async (ctx) => {
    await hub.audit.record(ctx.principal.actor, { action: 'audit.view' });
    await showAudit(ctx, 200);
  });

  page('POST', '/hub/audit/verify', { roles: ADMIN_ROLES }, async (ctx) => {
    const result = await hub.audit.verify();
    await hub.audit.record(ctx.principal.actor, { action: 'audit.verify', detail: { ok: result.ok, checked: result.checked, problemSeq: result.problem?.seq ?? null } });
    await showAudit(ctx, 200, result);
  });

  // ------------------------------------------------------------------ users (admin)
  const showUsers = async (ctx: WebCtx, status: number, extra: { error?: string; done?: string; form?: Record<string, string | undefined>; openPasswordFor?: string } = {}) => {
    const users = await hub.users.list();
    const now = new Date();
    render(ctx.res, 'users.njk', status, {
      title: 'Staff accounts',
      nav: 'users',
      users: users.map((u) => ({ ...u, locked: Boolean(u.lockedUntil && u.lockedUntil > now), self: u.id === ctx.staff.user.id })),
      roles: ROLES.map((r) => ({ value: r, label: L.ROLE_LABELS[r] })),
      ...extra,
    }, ctx);
  };

  page('GET', '/hub/admin/users', { roles: ADMIN_ROLES }, async (ctx) => {
    await hub.audit.record(ctx.principal.actor, { action: 'users.view' });
    await showUsers(ctx, 200, { done: DONE_MESSAGES[field(queryOf(ctx.req), 'done') ?? ''] });
  });

  page('POST', '/hub/admin/users', { roles: ADMIN_ROLES }, async (ctx) => {
    const body = bodyOf(ctx.req);
    const form = { username: field(body, 'username'), role: field(body, 'role') };
    const password = field(body, 'password') ?? '';
    if (password !== (field(body, 'confirm') ?? '')) {
      return showUsers(ctx, 400, { error: 'The two passwords do not match.', form });
    }
    try {
      await hub.users.create({ username: form.username ?? '', role: form.role ?? '', password }, ctx.principal.actor);
    } catch (e) {
      if (e instanceof UserError) return showUsers(ctx, e.code === 'exists' ? 409 : 400, { error: e.message, form });
      throw e;
    }
    redirect(ctx.res, '/hub/admin/users?done=user-created');
  });

  const userAction = (suffix: string, done: string, fn: (id: string, ctx: WebCtx, body: Record<string, unknown>) => Promise<unknown>) =>
    page('POST', `/hub/admin/users/:id/${suffix}`, { roles: ADMIN_ROLES }, async (ctx) => {
      const body = bodyOf(ctx.req);
      try {
        await fn(pathParam(ctx.req, 'id'), ctx, body);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        // Say which account and which form the problem is with; the row's password form opens again.
        const id = pathParam(ctx.req, 'id');
        const user = e.code === 'not_found' ? null : await hub.users.find(id);
        const where = user ? `${USER_ACTION_NAMES[suffix] ?? 'Change'} for ${user.username}: ` : '';
        return showUsers(ctx, e.code === 'not_found' ? 404 : 400, { error: `${where}${e.message}`, ...(user && suffix === 'password' ? { openPasswordFor: user.id } : {}) });
      }
      redirect(ctx.res, `/hub/admin/users?done=${done}`);
    });

  userAction('disable', 'user-disabled', async (id, ctx) => {
    if (id === ctx.staff.user.id) throw new UserError('You cannot disable your own account.', 'invalid');
    await hub.users.setDisabled(id, true, ctx.principal.actor);
  });
  userAction('enable', 'user-enabled', (id, ctx) => hub.users.setDisabled(id, false, ctx.principal.actor));
  userAction('unlock', 'user-unlocked', (id, ctx) => hub.users.unlock(id, ctx.principal.actor));
  userAction('password', 'user-password', async (id, ctx, body) => {
    const password = field(body, 'password') ?? '';
    if (password !== (field(body, 'confirm') ?? '')) throw new UserError('The two passwords do not match.', 'invalid');
    await hub.users.resetPassword(id, password, ctx.principal.actor);
  });

  // ------------------------------------------------------------------ API tokens (admin)
  const showTokens = async (ctx: WebCtx, status: number, extra: { error?: string; done?: string; created?: { token: string; name: string }; form?: Record<string, unknown> } = {}) => {
    const tokens = await hub.tokens.list();
    const names = await actorNames(tokens.map((t) => t.createdById));
    render(ctx.res, 'tokens.njk', status, {
      title: 'API tokens',
      nav: 'tokens',
      tokens: tokens.map((t) => ({ ...t, createdBy: t.createdById ? names.get(t.createdById) ?? 'former account' : 'command line' })),
      scopes: SCOPES.map((s) => ({ value: s, label: L.SCOPE_LABELS[s] })),
      ...extra,
    }, ctx);
  };

  page('GET', '/hub/admin/tokens', { roles: ADMIN_ROLES }, async (ctx) => {
    await hub.audit.record(ctx.principal.actor, { action: 'tokens.view' });
    await showTokens(ctx, 200, { done: DONE_MESSAGES[field(queryOf(ctx.req), 'done') ?? ''] });
  });

  page('POST', '/hub/admin/tokens', { roles: ADMIN_ROLES }, async (ctx) => {
    const body = bodyOf(ctx.req);
    const rawScopes = body.scopes;
    const scopes = Array.isArray(rawScopes) ? rawScopes.map(String) : typeof rawScopes === 'string' ? [rawScopes] : [];
    try {
      parseScopes(scopes);
      const { token, record } = await hub.tokens.create({ name: field(body, 'name') ?? '', scopes }, ctx.principal.actor);
      await showTokens(ctx, 201, { created: { token, name: record.name } });
    } catch (e) {
      if (e instanceof TokenError) return showTokens(ctx, 400, { error: e.message, form: { name: field(body, 'name'), scopes } });
      throw e;
    }
  });

  page('POST', '/hub/admin/tokens/:id/revoke', { roles: ADMIN_ROLES }, async (ctx) => {
    try {
      await hub.tokens.revoke(pathParam(ctx.req, 'id'), ctx.principal.actor);
    } catch (e) {
      if (e instanceof TokenError) return showTokens(ctx, 404, { error: e.message });
      throw e;
    }
    redirect(ctx.res, '/hub/admin/tokens?done=token-revoked');
  });

  // ------------------------------------------------------------------ own account
  page('GET', '/hub/account', {}, async (ctx) => {
    render(ctx.res, 'account.njk', 200, { title: 'Your account', nav: 'account', done: DONE_MESSAGES[field(queryOf(ctx.req), 'done') ?? ''] }, ctx);
  });

  page('POST', '/hub/account/password', {}, async (ctx) => {
    const body = bodyOf(ctx.req);
    const next = field(body, 'password') ?? '';
    if (next !== (field(body, 'confirm') ?? '')) {
      return render(ctx.res, 'account.njk', 400, { title: 'Your account', nav: 'account', error: 'The two new passwords do not match.' }, ctx);
    }
    try {
      await hub.users.changeOwnPassword(ctx.staff.user.id, field(body, 'current') ?? '', next, ctx.staff.session.id);
    } catch (e) {
      if (e instanceof UserError) return render(ctx.res, 'account.njk', 400, { title: 'Your account', nav: 'account', error: e.message }, ctx);
      throw e;
    }
    redirect(ctx.res, '/hub/account?done=password-changed');
  });
}

function entityLabel(L: HubLabels, field: string): string {
  const kind = (ENTITY_KINDS as Record<string, string>)[field] ?? field;
  return L.ENTITY_KIND_LABELS[kind] ?? humanise(kind);
}

function stamp(): string {
  return new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '');
}


export type { Actor };
