// The referral workflow: transitions, the closure guard, closure approval,
// notes and 3x5x2 grading. Both the web pages and the JSON API call this, so
// the rules hold whichever door a change comes through. Every change and its
// audit row commit in one transaction; optimistic concurrency uses `version`.
import crypto from 'node:crypto';
import type { Referral, ReferralEvent } from '@prisma/client';
import type { Db } from '../../bot/db/prisma';
import { appendAudit, type Actor, type AuditLogService, type Tx } from '../audit';
import {
  AGENCIES,
  HANDLING_CODES,
  INTEL_ASSESSMENTS,
  MAX_NOTE_CHARS,
  MAX_REASON_CHARS,
  OUTCOMES,
  SOURCE_EVALUATIONS,
  type Role,
  type Scope,
} from '../constants';

/** Who is acting: a signed-in member of staff (with a role) or an API token (no role). */
export interface Principal {
  actor: Actor;
  role: Role | null;
  scopes?: readonly Scope[];
  /** What ReferralEvent.actorId records: a staff user id, or "token:<id>". */
  eventActorId: string;
}

export type WorkflowErrorCode =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'version_conflict'
  | 'needs_supervisor'
  | 'forbidden';

export class WorkflowError extends Error {
  constructor(
    readonly code: WorkflowErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    switch (this.code) {
      case 'invalid':
        return 400;
      case 'not_found':
        return 404;
      case 'needs_supervisor':
      case 'forbidden':
        return 403;
      default:
        return 409;
    }
  }
}

export type TransitionTarget = 'triaged' | 'assigned' | 'closed';

export interface TransitionInput {
  to: string;
  agency?: string;
  outcome?: string;
  reason?: string;
  /** The version the caller saw; a mismatch is a conflict. Omit to skip the check (API only). */
  expectedVersion?: number;
}

export interface GradingInput {
  sourceEvaluation: string;
  intelAssessment: string;
  handlingCode: string;
  expectedVersion?: number;
}

const SUPERVISORS: readonly Role[] = ['supervisor', 'admin'];
export const isSupervisor = (p: Principal): boolean => p.role !== null && SUPERVISORS.includes(p.role);

/** Referrals a triager (or an API token) may not close on their own. */
export function closureNeedsSupervisor(r: Pick<Referral, 'riskUnknown' | 'urgency'>): boolean {
  return r.riskUnknown || r.urgency === 'immediate' || r.urgency === 'high';
}

export function closureGuardReason(r: Pick<Referral, 'riskUnknown' | 'urgency'>): string {
  const why = [
    ...(r.urgency === 'immediate' || r.urgency === 'high' ? [`its urgency is ${r.urgency}`] : []),
    ...(r.riskUnknown ? ['the risk to the person is unknown'] : []),
  ];
  return `A supervisor must approve closing this referral because ${why.join(' and ')}. Request closure and a supervisor will review it.`;
}

const cleanText = (v: unknown, max: number): string => (typeof v === 'string' ? v.replace(/\r\n/g, '\n').trim().slice(0, max) : '');

export interface ClosureRequest {
  eventId: string;
  requestedAt: Date;
  requestedBy: string | null;
  outcome: string;
  reason: string;
}

export class Workflow {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLogService,
  ) {}

  private async load(tx: Tx, reference: string): Promise<Referral> {
    const r = await tx.referral.findUnique({ where: { reference } });
    if (!r) throw new WorkflowError('not_found', `No referral ${reference}.`);
    return r;
  }

  private checkVersion(r: Referral, expected: number | undefined): void {
    if (expected !== undefined && expected !== r.version) {
      throw new WorkflowError(
        'version_conflict',
        'Someone else changed this referral after you opened it. Reload it, check what changed, and try again.',
      );
    }
  }

  /** Update guarded by version: fails if another writer got there first. */
  private async update(tx: Tx, r: Referral, data: Parameters<Tx['referral']['update']>[0]['data']): Promise<Referral> {
    const { count } = await tx.referral.updateMany({ where: { id: r.id, version: r.version }, data: { ...data, version: { increment: 1 } } });
    if (count !== 1) throw new WorkflowError('version_conflict', 'Someone else changed this referral at the same time. Reload it and try again.');
    return tx.referral.findUniqueOrThrow({ where: { id: r.id } });
  }

  private async event(
    tx: Tx,
    p: Principal,
    r: Referral,
    kind: string,
    body: unknown,
    statuses: { from?: string; to?: string } = {},
  ): Promise<ReferralEvent> {
    return tx.referralEvent.create({
      data: {
        id: crypto.randomUUID(),
        referralId: r.id,
        actorId: p.eventActorId,
        kind,
        fromStatus: statuses.from ?? null,
        toStatus: statuses.to ?? null,
        body: typeof body === 'string' ? body : JSON.stringify(body),
      },
    });
  }

  async transition(p: Principal, reference: string, input: TransitionInput): Promise<Referral> {
    return this.audit.transaction(async (tx) => {
      const r = await this.load(tx, reference);
      this.checkVersion(r, input.expectedVersion);
      const reason = cleanText(input.reason, MAX_REASON_CHARS);
      const from = r.status;
      let data: Parameters<Tx['referral']['update']>[0]['data'];
      let to: TransitionTarget;
      let kindOfChange: string;
      let extra: Record<string, unknown> = {};
      switch (input.to) {
        case 'triaged':
          if (from === 'new') {
            kindOfChange = 'triage';
            data = { status: 'triaged', triagedAt: r.triagedAt ?? new Date() };
          } else if (from === 'closed') {
            if (!reason) throw new WorkflowError('invalid', 'Give a reason for reopening this referral.');
            kindOfChange = 'reopen';
            data = { status: 'triaged', closedAt: null, outcome: null, closeReason: null, assignedAgency: null };
          } else {
            throw new WorkflowError('conflict', `This referral is ${from}; only new referrals can be triaged and only closed ones reopened.`);
          }
          to = 'triaged';
          break;
        case 'assigned': {
          if (from !== 'triaged' && from !== 'assigned') {
            throw new WorkflowError('conflict', from === 'new' ? 'Triage this referral before assigning it.' : 'Reopen this referral before assigning it.');
          }
          const agency = input.agency;
          if (!agency || !(AGENCIES as readonly string[]).includes(agency)) {
            throw new WorkflowError('invalid', 'Choose the agency to assign this referral to.');
          }
          if (from === 'assigned' && r.assignedAgency === agency) {
            throw new WorkflowError('conflict', 'This referral is already assigned to that agency.');
          }
          kindOfChange = from === 'assigned' ? 'reassign' : 'assign';
          data = { status: 'assigned', assignedAgency: agency };
          extra = { agency };
          to = 'assigned';
          break;
        }
        case 'closed': {
          if (from !== 'triaged' && from !== 'assigned') {
            throw new WorkflowError('conflict', from === 'new' ? 'Triage this referral before closing it.' : 'This referral is already closed.');
          }
          const outcome = input.outcome;
          if (!outcome || !(OUTCOMES as readonly string[]).includes(outcome)) {
            throw new WorkflowError('invalid', 'Choose the outcome for closing this referral.');
          }
          if (!reason) throw new WorkflowError('invalid', 'Give a reason for closing this referral.');
          if (closureNeedsSupervisor(r) && !isSupervisor(p)) {
            throw new WorkflowError('needs_supervisor', closureGuardReason(r));
          }
          kindOfChange = 'close';
          data = { status: 'closed', outcome, closeReason: reason, closedAt: new Date() };
          extra = { outcome };
          to = 'closed';
          break;
        }
        default:
          throw new WorkflowError('invalid', 'A transition goes to one of: triaged, assigned, closed.');
      }
      // Any transition answers a closure request that was waiting.
      const pending = await this.pendingClosure(r.id, tx);
      const updated = await this.update(tx, r, data);
      await this.event(
        tx,
        p,
        r,
        'transition',
        { change: kindOfChange, ...extra, ...(reason ? { reason } : {}), ...(pending ? { supersedesRequest: pending.eventId } : {}) },
        { from, to },
      );
      await appendAudit(tx, p.actor, {
        action: `referral.${kindOfChange}`,
        target: `referral:${reference}`,
        detail: { from, to, version: updated.version, ...extra },
      });
      return updated;
    });
  }

  /**
   * A triager asks a supervisor to close a referral they may not close
   * themselves. The referral stays open until a supervisor decides.
   */
  async requestClosure(p: Principal, reference: string, input: { outcome?: string; reason?: string; expectedVersion?: number }): Promise<ReferralEvent> {
    return this.audit.transaction(async (tx) => {
      const r = await this.load(tx, reference);
      this.checkVersion(r, input.expectedVersion);
      if (r.status !== 'triaged' && r.status !== 'assigned') {
        throw new WorkflowError('conflict', r.status === 'new' ? 'Triage this referral before asking to close it.' : 'This referral is already closed.');
      }
      const outcome = input.outcome;
      if (!outcome || !(OUTCOMES as readonly string[]).includes(outcome)) {
        throw new WorkflowError('invalid', 'Choose the outcome you propose.');
      }
      const reason = cleanText(input.reason, MAX_REASON_CHARS);
      if (!reason) throw new WorkflowError('invalid', 'Give a reason for closing this referral.');
      const ev = await this.event(tx, p, r, 'closure_request', { outcome, reason });
      await appendAudit(tx, p.actor, { action: 'referral.closure_request', target: `referral:${reference}`, detail: { outcome, eventId: ev.id } });
      return ev;
    });
  }

  /**
   * The closure request awaiting a supervisor, if any: the latest request that
   * no decision and no later transition has answered (both name the request's id).
   */
  async pendingClosure(referralId: string, tx: Tx | Db = this.db): Promise<ClosureRequest | null> {
    const latest = await tx.referralEvent.findFirst({
      where: { referralId, kind: 'closure_request' },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
    if (!latest) return null;
    const answered = await tx.referralEvent.count({
      where: { referralId, kind: { in: ['closure_decision', 'transition'] }, body: { contains: latest.id } },
    });
    if (answered) return null;
    const body = JSON.parse(latest.body) as { outcome: string; reason: string };
    return { eventId: latest.id, requestedAt: latest.createdAt, requestedBy: latest.actorId, outcome: body.outcome, reason: body.reason };
  }

  /** A supervisor approves (the referral closes as requested) or declines a closure request. */
  async decideClosure(
    p: Principal,
    reference: string,
    input: { approve: boolean; note?: string; expectedVersion?: number; eventId?: string },
  ): Promise<Referral> {
    if (!isSupervisor(p)) throw new WorkflowError('forbidden', 'Only a supervisor or admin can approve or decline a closure request.');
    return this.audit.transaction(async (tx) => {
      const r = await this.load(tx, reference);
      this.checkVersion(r, input.expectedVersion);
      const pending = await this.pendingClosure(r.id, tx);
      if (!pending || (input.eventId && input.eventId !== pending.eventId)) {
        throw new WorkflowError('conflict', 'There is no closure request waiting on this referral (it may have been decided already).');
      }
      const note = cleanText(input.note, MAX_REASON_CHARS);
      if (!input.approve) {
        await this.event(tx, p, r, 'closure_decision', { approved: false, requestEventId: pending.eventId, ...(note ? { reason: note } : {}) });
        await appendAudit(tx, p.actor, { action: 'referral.closure_declined', target: `referral:${reference}`, detail: { eventId: pending.eventId } });
        return r;
      }
      if (r.status !== 'triaged' && r.status !== 'assigned') throw new WorkflowError('conflict', 'This referral is already closed.');
      const updated = await this.update(tx, r, {
        status: 'closed',
        outcome: pending.outcome,
        closeReason: pending.reason,
        closedAt: new Date(),
      });
      await this.event(
        tx,
        p,
        r,
        'transition',
        {
          change: 'close',
          outcome: pending.outcome,
          reason: pending.reason,
          approvedBy: p.eventActorId,
          requestedBy: pending.requestedBy,
          requestEventId: pending.eventId,
          ...(note ? { approvalNote: note } : {}),
        },
        { from: r.status, to: 'closed' },
      );
      await appendAudit(tx, p.actor, {
        action: 'referral.close',
        target: `referral:${reference}`,
        detail: { from: r.status, to: 'closed', outcome: pending.outcome, approvedRequest: pending.eventId, version: updated.version },
      });
      return updated;
    });
  }

  async addNote(p: Principal, reference: string, text: unknown): Promise<ReferralEvent> {
    const body = cleanText(text, MAX_NOTE_CHARS + 1);
    if (!body) throw new WorkflowError('invalid', 'Write the note before saving it.');
    if (body.length > MAX_NOTE_CHARS) throw new WorkflowError('invalid', `Notes are at most ${MAX_NOTE_CHARS} characters.`);
    return this.audit.transaction(async (tx) => {
      const r = await this.load(tx, reference);
      const ev = await this.event(tx, p, r, 'note', body);
      await appendAudit(tx, p.actor, { action: 'referral.note', target: `referral:${reference}`, detail: { eventId: ev.id, chars: body.length } });
      return ev;
    });
  }

  async grade(p: Principal, reference: string, input: GradingInput): Promise<Referral> {
    const { sourceEvaluation, intelAssessment, handlingCode } = input;
    if (!(SOURCE_EVALUATIONS as readonly string[]).includes(sourceEvaluation)) {
      throw new WorkflowError('invalid', 'Choose the source evaluation (1, 2 or 3).');
    }
    if (!(INTEL_ASSESSMENTS as readonly string[]).includes(intelAssessment)) {
      throw new WorkflowError('invalid', 'Choose the intelligence assessment (A to E).');
    }
    if (!(HANDLING_CODES as readonly string[]).includes(handlingCode)) {
      throw new WorkflowError('invalid', 'Choose the handling code (P or C).');
    }
    return this.audit.transaction(async (tx) => {
      const r = await this.load(tx, reference);
      this.checkVersion(r, input.expectedVersion);
      const before = { sourceEvaluation: r.sourceEvaluation, intelAssessment: r.intelAssessment, handlingCode: r.handlingCode };
      const after = { sourceEvaluation, intelAssessment, handlingCode };
      const updated = await this.update(tx, r, after);
      await this.event(tx, p, r, 'grading', { from: before, to: after });
      await appendAudit(tx, p.actor, {
        action: 'referral.grade',
        target: `referral:${reference}`,
        detail: { grade: `${sourceEvaluation}${intelAssessment}${handlingCode}`, version: updated.version },
      });
      return updated;
    });
  }

  async events(referralId: string): Promise<ReferralEvent[]> {
    return this.db.referralEvent.findMany({ where: { referralId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }
}
