// Persists referrals. A referral, its indicators, entities, any volunteered
// contact details (sealed) and its hub alert (outbox) are written in ONE
// transaction; the caller learns the reference code only after it commits.
import crypto from 'node:crypto';
import { Prisma } from '@prisma/client';
import type { Db } from '../db/prisma';
import { seal, open, type Sealed } from '../util/crypto';
import { generateReference } from './referenceCode';
import { emptyEntities, type Assessment, type Entities, type IndicatorRef, type ReferralDraft, type Urgency } from './types';

export const URGENCY_RANK: Record<Urgency, number> = { immediate: 0, high: 1, standard: 2 };
export const ENTITY_KINDS = {
  phones: 'phone',
  vehicles: 'vehicle',
  postcodes: 'postcode',
  addresses: 'address',
  names: 'name',
  handles: 'handle',
} as const satisfies Record<keyof Entities, string>;

export interface NewReferral {
  draft: ReferralDraft;
  assessment: Assessment;
  channel: string;
  /** Contact details the reporter chose to leave, with consent: sealed by sealPending(), or text (sealed here). */
  contact?: Sealed | string;
  /**
   * Chosen by the conversation when the report began. Sending the same report
   * again (after a crash between the commit and the reply, or a retried
   * request) returns the referral already stored instead of making a copy.
   */
  submissionKey?: string;
}

export interface CreatedReferral {
  id: string;
  reference: string;
  /** True when this submission key had already been stored: nothing new was written. */
  existing: boolean;
}

export interface ReferralStoreOptions {
  contactKey: Buffer;
  publicBaseUrl: string;
  /** Urgencies that raise a hub alert through the outbox. */
  alertUrgencies?: Urgency[];
}

function entityRows(entities: Entities, addendumId?: string): Array<{ kind: string; value: string; addendumId?: string }> {
  const rows: Array<{ kind: string; value: string; addendumId?: string }> = [];
  for (const [field, kind] of Object.entries(ENTITY_KINDS) as Array<[keyof Entities, string]>) {
    for (const value of new Set(entities[field] ?? [])) {
      if (value) rows.push({ kind, value: value.slice(0, 200), ...(addendumId ? { addendumId } : {}) });
    }
  }
  return rows;
}

function dedupeIndicators(indicators: IndicatorRef[]): IndicatorRef[] {
  const byCode = new Map<string, IndicatorRef>();
  for (const i of indicators) {
    const prior = byCode.get(i.code);
    if (!prior || (prior.source === 'text' && i.source === 'choice')) byCode.set(i.code, i);
  }
  return [...byCode.values()];
}

const isUniqueViolation = (e: unknown): boolean =>
  e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002';

export class ReferralStore {
  constructor(
    private readonly db: Db,
    private readonly options: ReferralStoreOptions,
  ) {}

  /** Commit a referral and return its reference code. Throws if the commit fails. */
  async create(input: NewReferral): Promise<CreatedReferral> {
    const { draft, assessment } = input;
    const stored = await this.bySubmissionKey(input.submissionKey);
    if (stored) return stored;
    for (let attempt = 0; ; attempt++) {
      const id = crypto.randomUUID();
      const reference = generateReference();
      const ops: Prisma.PrismaPromise<unknown>[] = [
        this.db.referral.create({
          data: {
            id,
            reference,
            channel: input.channel,
            status: 'new',
            urgency: assessment.urgency,
            urgencyRank: URGENCY_RANK[assessment.urgency],
            riskScore: assessment.riskScore,
            riskUnknown: assessment.riskUnknown,
            reasons: JSON.stringify(assessment.reasons),
            concernType: draft.concernType,
            reporterRelationship: draft.reporterRelationship,
            knowledge: draft.knowledge,
            subjectAgeBand: draft.subject.ageBand,
            subjectResidency: draft.subject.residency,
            subjectHomeArea: draft.subject.homeArea ?? null,
            subjectName: draft.subject.name ?? null,
            locationTown: draft.location.town ?? null,
            locationPostcode: draft.location.postcodeDistrict ?? null,
            locationDetail: draft.location.detail ?? null,
            when: draft.when,
            narrative: draft.narrative,
            dangerReported: draft.dangerReported,
            submissionKey: input.submissionKey ?? null,
            indicators: { create: dedupeIndicators(draft.indicators).map((i) => ({ code: i.code, source: i.source })) },
            entities: { create: entityRows(draft.entities) },
            ...(input.contact
              ? { contact: { create: seal(this.options.contactKey, typeof input.contact === 'string' ? input.contact : this.openPending(input.contact), `contact:${id}`) } }
              : {}),
          },
        }),
      ];
      if ((this.options.alertUrgencies ?? ['immediate', 'high']).includes(assessment.urgency)) {
        ops.push(
          this.db.outboxMessage.create({
            data: {
              id: crypto.randomUUID(),
              kind: 'hub.alert',
              dedupeKey: `hub.alert:${reference}`,
              // No personal details: the reference, the urgency and a link only.
              payload: JSON.stringify({
                reference,
                urgency: assessment.urgency,
                link: `${this.options.publicBaseUrl}/hub/referrals/${reference}`,
              }),
            },
          }),
        );
      }
      try {
        await this.db.$transaction(ops);
        return { id, reference, existing: false };
      } catch (e) {
        if (isUniqueViolation(e)) {
          // The same report sent twice at once: the other request stored it.
          const raced = await this.bySubmissionKey(input.submissionKey);
          if (raced) return raced;
          // A clash of random reference codes is astronomically rare; try a new one.
          if (attempt < 3) continue;
        }
        throw e;
      }
    }
  }

  private async bySubmissionKey(submissionKey: string | undefined): Promise<CreatedReferral | null> {
    if (!submissionKey) return null;
    const row = await this.db.referral.findUnique({ where: { submissionKey }, select: { id: true, reference: true } });
    return row ? { ...row, existing: true } : null;
  }

  /**
   * Seal contact details the moment they are typed, so they never sit in
   * conversation state in clear. Re-sealed to the referral when it commits.
   */
  sealPending(text: string): Sealed {
    return seal(this.options.contactKey, text, 'contact:pending');
  }

  private openPending(sealed: Sealed): string {
    return open(this.options.contactKey, sealed, 'contact:pending');
  }

  async exists(reference: string): Promise<boolean> {
    return (await this.db.referral.count({ where: { reference } })) > 0;
  }

  /** Add what a reporter came back to tell us. Returns false if the reference is unknown. */
  async addAddendum(
    reference: string,
    input: { channel: string; text: string; indicators: IndicatorRef[]; entities: Entities },
  ): Promise<boolean> {
    const referral = await this.db.referral.findUnique({
      where: { reference },
      select: { id: true, status: true, indicators: { select: { code: true } }, entities: { select: { kind: true, value: true } } },
    });
    if (!referral) return false;
    // New information on a closed referral must not go unseen: it reopens (back in the open queue, in its
    // place by urgency and age), with the reason in its history. Closing again is a decision for staff.
    const reopen = referral.status === 'closed';
    const addendumId = crypto.randomUUID();
    const knownCodes = new Set(referral.indicators.map((i) => i.code));
    const knownEntities = new Set(referral.entities.map((e) => `${e.kind}\u0000${e.value}`));
    const newIndicators = dedupeIndicators(input.indicators).filter((i) => !knownCodes.has(i.code));
    const newEntities = entityRows(input.entities, addendumId).filter((e) => !knownEntities.has(`${e.kind}\u0000${e.value}`));
    await this.db.$transaction([
      this.db.addendum.create({
        data: {
          id: addendumId,
          referralId: referral.id,
          channel: input.channel,
          text: input.text,
          indicators: JSON.stringify(dedupeIndicators(input.indicators).map((i) => i.code)),
          entities: JSON.stringify(input.entities),
        },
      }),
      ...newIndicators.map((i) =>
        this.db.referralIndicator.create({ data: { referralId: referral.id, code: i.code, source: i.source, addendumId } }),
      ),
      ...newEntities.map((e) => this.db.referralEntity.create({ data: { referralId: referral.id, ...e } })),
      this.db.referral.update({
        where: { id: referral.id },
        data: {
          version: { increment: 1 },
          ...(reopen ? { status: 'triaged', closedAt: null, outcome: null, closeReason: null, assignedAgency: null } : {}),
        },
      }),
      ...(reopen
        ? [
            this.db.referralEvent.create({
              data: {
                id: crypto.randomUUID(),
                referralId: referral.id,
                actorId: null,
                kind: 'transition',
                fromStatus: 'closed',
                toStatus: 'triaged',
                // Staff read the reason's words from content/hub/labels.yml (system_reason).
                body: JSON.stringify({ change: 'reopen', systemReason: 'reporter_addendum', addendumId }),
              },
            }),
          ]
        : []),
    ]);
    return true;
  }

  /** The referral in the shape of docs/referral.schema.json, or null. */
  async getJson(reference: string): Promise<ReferralJson | null> {
    const row = await this.db.referral.findUnique({ where: { reference }, include: referralInclude });
    return row ? toReferralJson(row) : null;
  }

  /** Decrypt volunteered contact details (authorised hub roles only: the caller checks). */
  async readContact(reference: string): Promise<string | null> {
    const row = await this.db.referral.findUnique({ where: { reference }, select: { id: true, contact: true } });
    if (!row?.contact) return null;
    return open(this.options.contactKey, row.contact as Sealed, `contact:${row.id}`);
  }
}

export const referralInclude = {
  indicators: { select: { code: true } },
  entities: { select: { kind: true, value: true } },
  addenda: { orderBy: { createdAt: 'asc' } },
} as const satisfies Prisma.ReferralInclude;

export type ReferralRow = Prisma.ReferralGetPayload<{ include: typeof referralInclude }>;

export interface ReferralJson {
  reference: string;
  createdAt: string;
  updatedAt: string;
  channel: string;
  status: string;
  urgency: string;
  riskScore: number;
  riskUnknown: boolean;
  reasons: Array<{ code: string; text: string; points?: number }>;
  concernType: string;
  reporterRelationship: string;
  knowledge: string;
  subject: { ageBand: string; residency: string; homeArea?: string; name?: string };
  location: { town?: string; postcodeDistrict?: string; detail?: string };
  when: string;
  indicators: string[];
  narrative: string;
  entities: Entities;
  addenda: Array<{ createdAt: string; channel: string; text: string; indicators: string[]; entities: Entities }>;
  dangerReported: boolean;
  assignedAgency?: string;
  outcome?: string;
  closeReason?: string;
  grading?: { sourceEvaluation?: number; intelligenceAssessment?: string; handlingCode?: string };
  triagedAt?: string;
  closedAt?: string;
}

const defined = <T extends Record<string, unknown>>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as T;

export function toReferralJson(row: ReferralRow): ReferralJson {
  const entities = emptyEntities();
  const fieldOf = Object.fromEntries(Object.entries(ENTITY_KINDS).map(([f, k]) => [k, f])) as Record<string, keyof Entities>;
  for (const e of row.entities) entities[fieldOf[e.kind]]?.push(e.value);
  const grading = defined({
    sourceEvaluation: row.sourceEvaluation ? Number(row.sourceEvaluation) : undefined,
    intelligenceAssessment: row.intelAssessment ?? undefined,
    handlingCode: row.handlingCode ?? undefined,
  });
  return {
    reference: row.reference,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    channel: row.channel,
    status: row.status,
    urgency: row.urgency,
    riskScore: row.riskScore,
    riskUnknown: row.riskUnknown,
    reasons: JSON.parse(row.reasons),
    concernType: row.concernType,
    reporterRelationship: row.reporterRelationship,
    knowledge: row.knowledge,
    subject: defined({
      ageBand: row.subjectAgeBand,
      residency: row.subjectResidency,
      homeArea: row.subjectHomeArea ?? undefined,
      name: row.subjectName ?? undefined,
    }),
    location: defined({
      town: row.locationTown ?? undefined,
      postcodeDistrict: row.locationPostcode ?? undefined,
      detail: row.locationDetail ?? undefined,
    }),
    when: row.when,
    indicators: row.indicators.map((i) => i.code).sort(),
    narrative: row.narrative,
    entities,
    addenda: row.addenda.map((a) => ({
      createdAt: a.createdAt.toISOString(),
      channel: a.channel,
      text: a.text,
      indicators: JSON.parse(a.indicators),
      entities: JSON.parse(a.entities),
    })),
    dangerReported: row.dangerReported,
    ...defined({
      triagedAt: row.triagedAt?.toISOString(),
      closedAt: row.closedAt?.toISOString(),
      assignedAgency: row.assignedAgency ?? undefined,
      outcome: row.outcome ?? undefined,
      closeReason: row.closeReason ?? undefined,
    }),
    ...(Object.keys(grading).length ? { grading } : {}),
  };
}
