// Export of a filtered queue as CSV or JSON.
//
// CSV cells that a spreadsheet would read as a formula (starting with = + - @,
// tab or carriage return) are prefixed with a single quote (OWASP's advice for
// CSV injection), so a reporter's words can never run as a formula.
import { stringify } from 'csv-stringify/sync';
import type { Db } from '../bot/db/prisma';
import { referralInclude, toReferralJson, type ReferralJson, type ReferralRow } from '../bot/referrals/repository';
import { EXPORT_MAX_ROWS } from './constants';
import type { IndicatorLabels } from './labels';
import { buildWhere, overdueMinutes, QUEUE_ORDER, type QueueFilters, type Targets } from './referrals/queue';

const FORMULA_START = /^[=+\-@\t\r]/;

/** Make a cell safe to open in a spreadsheet. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export interface ExportResult {
  rows: ReferralRow[];
  truncated: boolean;
}

export async function exportRows(db: Db, filters: QueueFilters, targets: Targets, maxRows = EXPORT_MAX_ROWS): Promise<ExportResult> {
  const rows = await db.referral.findMany({
    where: buildWhere(filters, targets),
    orderBy: QUEUE_ORDER,
    take: maxRows + 1,
    include: referralInclude,
  });
  return { rows: rows.slice(0, maxRows), truncated: rows.length > maxRows };
}

const COLUMNS = [
  'reference',
  'received_at',
  'status',
  'urgency',
  'overdue_minutes',
  'risk_score',
  'risk_unknown',
  'concern_type',
  'subject_age_band',
  'subject_residency',
  'subject_home_area',
  'subject_name',
  'town',
  'postcode_district',
  'location_detail',
  'when',
  'reporter_relationship',
  'reporter_knowledge',
  'indicator_codes',
  'indicator_labels',
  'urgency_reasons',
  'phones',
  'vehicles',
  'postcodes',
  'addresses',
  'names',
  'handles',
  'narrative',
  'addenda',
  'danger_reported',
  'triaged_at',
  'assigned_agency',
  'outcome',
  'close_reason',
  'closed_at',
  'source_evaluation',
  'intelligence_assessment',
  'handling_code',
  'channel',
] as const;

export function toCsv(rows: ReferralRow[], labels: IndicatorLabels, targets: Targets, now = new Date()): string {
  const records = rows.map((row) => {
    const j = toReferralJson(row);
    const record: Record<(typeof COLUMNS)[number], string | number | boolean | Date | null> = {
      reference: j.reference,
      received_at: row.createdAt,
      status: row.status,
      urgency: row.urgency,
      overdue_minutes: overdueMinutes(targets, row, now),
      risk_score: row.riskScore,
      risk_unknown: row.riskUnknown,
      concern_type: row.concernType,
      subject_age_band: row.subjectAgeBand,
      subject_residency: row.subjectResidency,
      subject_home_area: row.subjectHomeArea,
      subject_name: row.subjectName,
      town: row.locationTown,
      postcode_district: row.locationPostcode,
      location_detail: row.locationDetail,
      when: row.when,
      reporter_relationship: row.reporterRelationship,
      reporter_knowledge: row.knowledge,
      indicator_codes: j.indicators.join('; '),
      indicator_labels: j.indicators.map((c) => labels.label(c)).join('; '),
      urgency_reasons: j.reasons.map((r) => r.text).join('; '),
      phones: j.entities.phones.join('; '),
      vehicles: j.entities.vehicles.join('; '),
      postcodes: j.entities.postcodes.join('; '),
      addresses: j.entities.addresses.join('; '),
      names: j.entities.names.join('; '),
      handles: j.entities.handles.join('; '),
      narrative: row.narrative,
      addenda: j.addenda.map((a) => `[${a.createdAt}] ${a.text}`).join('\n'),
      danger_reported: row.dangerReported,
      triaged_at: row.triagedAt,
      assigned_agency: row.assignedAgency,
      outcome: row.outcome,
      close_reason: row.closeReason,
      closed_at: row.closedAt,
      source_evaluation: row.sourceEvaluation,
      intelligence_assessment: row.intelAssessment,
      handling_code: row.handlingCode,
      channel: row.channel,
    };
    return record;
  });
  return stringify(records, {
    header: true,
    columns: [...COLUMNS],
    record_delimiter: '\r\n',
    cast: {
      string: (v) => neutraliseCell(v),
      date: (d) => d.toISOString(),
      boolean: (b) => (b ? 'true' : 'false'),
      number: (n) => String(n),
    },
  });
}

export interface JsonExport {
  exportedAt: string;
  filters: QueueFilters;
  count: number;
  truncated: boolean;
  referrals: ReferralJson[];
}

export function toJsonExport(result: ExportResult, filters: QueueFilters, now = new Date()): JsonExport {
  return {
    exportedAt: now.toISOString(),
    filters,
    count: result.rows.length,
    truncated: result.truncated,
    referrals: result.rows.map(toReferralJson),
  };
}
