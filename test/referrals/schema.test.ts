import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractEntities } from '../../bot/referrals/entities';
import { generateReference } from '../../bot/referrals/referenceCode';
import {
  AGE_BANDS,
  CONCERN_TYPES,
  KNOWLEDGE_CODES,
  RELATIONSHIPS,
  RESIDENCIES,
  URGENCIES,
  WHEN_CODES,
} from '../../bot/referrals/types';
import { assess, loadIndicators, loadUrgencyRules } from '../../bot/referrals/urgency';
import { draft, codes } from './drafts';

const SCHEMA_FILE = path.resolve(__dirname, '../../docs/referral.schema.json');
type Json = Record<string, unknown>;
const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as Json;

/**
 * A small validator for the JSON Schema keywords this schema uses (type, enum,
 * pattern, required, properties, additionalProperties, items, uniqueItems,
 * minimum/maximum, minLength/maxLength, $ref to #/$defs). Enough to check that a
 * realistic referral fits and that extra fields are refused.
 */
function validate(s: Json, value: unknown, at = '$'): string[] {
  if (typeof s.$ref === 'string') {
    const name = s.$ref.replace('#/$defs/', '');
    return validate((schema.$defs as Record<string, Json>)[name] as Json, value, at);
  }
  const errors: string[] = [];
  if (Array.isArray(s.enum) && !s.enum.some((e) => e === value)) errors.push(`${at}: ${JSON.stringify(value)} not in enum`);
  const type = s.type as string | undefined;
  if (type === 'object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: not an object`];
    const obj = value as Json;
    for (const key of (s.required as string[] | undefined) ?? []) if (!(key in obj)) errors.push(`${at}: missing ${key}`);
    const props = (s.properties as Record<string, Json> | undefined) ?? {};
    for (const [key, v] of Object.entries(obj)) {
      if (props[key]) errors.push(...validate(props[key] as Json, v, `${at}.${key}`));
      else if (s.additionalProperties === false) errors.push(`${at}: unexpected property ${key}`);
    }
  } else if (type === 'array') {
    if (!Array.isArray(value)) return [`${at}: not an array`];
    if (s.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) errors.push(`${at}: duplicate items`);
    value.forEach((v, i) => errors.push(...validate(s.items as Json, v, `${at}[${i}]`)));
  } else if (type === 'string') {
    if (typeof value !== 'string') return [`${at}: not a string`];
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${at}: ${value} does not match ${s.pattern}`);
    if (typeof s.minLength === 'number' && value.length < s.minLength) errors.push(`${at}: too short`);
    if (typeof s.maxLength === 'number' && value.length > s.maxLength) errors.push(`${at}: too long`);
    if (s.format === 'date-time' && Number.isNaN(Date.parse(value))) errors.push(`${at}: not a date-time`);
  } else if (type === 'integer' || type === 'number') {
    if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value))) return [`${at}: not an ${type}`];
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: below minimum`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: above maximum`);
  } else if (type === 'boolean' && typeof value !== 'boolean') {
    errors.push(`${at}: not a boolean`);
  }
  return errors;
}

function enumOf(pathParts: string[]): unknown[] {
  let node: Json = schema;
  for (const p of pathParts) node = node[p] as Json;
  return node.enum as unknown[];
}

function sampleReferral(): Json {
  const indicators = loadIndicators();
  const rules = loadUrgencyRules(undefined, indicators);
  const narrative = 'They call him Tiny, deal line 07700 900123, white van AB12 CDE outside flat 3, 23 Alma Road BH1 4AA. snap: tiny_99';
  const d = draft({
    concernType: 'young_person',
    subject: { ageBand: '13_15', residency: 'visiting', homeArea: 'London' },
    location: { town: 'Bournemouth', postcodeDistrict: 'BH1' },
    when: 'ongoing',
    indicators: codes('yp_missing_episodes', 'yp_multiple_phones'),
    narrative,
    reporterRelationship: 'neighbour',
    knowledge: 'saw',
    entities: extractEntities(narrative),
  });
  const a = assess(d, rules, indicators);
  return {
    reference: generateReference(),
    createdAt: '2025-01-31T10:15:00.000Z',
    channel: 'webchat',
    status: 'new',
    urgency: a.urgency,
    riskScore: a.riskScore,
    riskUnknown: a.riskUnknown,
    reasons: a.reasons,
    concernType: d.concernType,
    reporterRelationship: d.reporterRelationship,
    knowledge: d.knowledge,
    subject: d.subject,
    location: d.location,
    when: d.when,
    indicators: d.indicators.map((i) => i.code),
    narrative: d.narrative,
    dangerReported: d.dangerReported,
    entities: d.entities,
    addenda: [
      { createdAt: '2025-02-01T09:00:00Z', channel: 'sms', text: 'He has a burner now', indicators: ['yp_multiple_phones'], entities: extractEntities('He has a burner now') },
    ],
  };
}

describe('docs/referral.schema.json', () => {
  test('is valid JSON for JSON Schema draft 2020-12, closed at the top level', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
  });

  test('lists the required fields', () => {
    expect(new Set(schema.required as string[])).toEqual(
      new Set([
        'reference', 'createdAt', 'channel', 'status', 'urgency', 'riskScore', 'riskUnknown', 'reasons', 'concernType',
        'reporterRelationship', 'knowledge', 'subject', 'location', 'when', 'indicators', 'narrative', 'entities', 'addenda',
      ]),
    );
    const props = schema.properties as Record<string, Json>;
    for (const key of ['assignedAgency', 'outcome', 'closeReason', 'grading', 'updatedAt']) expect(props[key]).toBeDefined();
    const subject = props.subject as Json;
    expect(subject.required).toEqual(['ageBand', 'residency']);
    expect((subject.properties as Json).name).toBeDefined();
    expect(enumOf(['$defs', 'channel'])).toEqual(['webchat', 'sms', 'emulator', 'directline', 'test', 'other']);
    expect(enumOf(['properties', 'status'])).toEqual(['new', 'triaged', 'assigned', 'closed']);
  });

  test('enums match the TypeScript types', () => {
    const props = schema.properties as Record<string, Json>;
    const subject = (props.subject as Json).properties as Record<string, Json>;
    expect(new Set(enumOf(['properties', 'urgency']))).toEqual(new Set(URGENCIES));
    expect(enumOf(['properties', 'concernType'])).toEqual([...CONCERN_TYPES]);
    expect(enumOf(['properties', 'reporterRelationship'])).toEqual([...RELATIONSHIPS]);
    expect(enumOf(['properties', 'knowledge'])).toEqual([...KNOWLEDGE_CODES]);
    expect(enumOf(['properties', 'when'])).toEqual([...WHEN_CODES]);
    expect((subject.ageBand as Json).enum).toEqual([...AGE_BANDS]);
    expect((subject.residency as Json).enum).toEqual([...RESIDENCIES]);
  });

  test('never has a place for the reporter identity', () => {
    const text = JSON.stringify(Object.keys(schema.properties as Json)).toLowerCase();
    for (const word of ['reportername', 'reporterphone', 'email', 'ip', 'userid', 'contact']) expect(text).not.toContain(`"${word}`);
  });

  test('a referral built by the domain code fits the schema; extra fields do not', () => {
    const referral = sampleReferral();
    expect(validate(schema, referral)).toEqual([]);
    expect(validate(schema, { ...referral, reporterPhone: '+447700900123' })).toEqual(['$: unexpected property reporterPhone']);
    const { reference: _omit, ...noRef } = referral;
    expect(validate(schema, noRef)).toEqual(['$: missing reference']);
    expect(validate(schema, { ...referral, riskScore: 101 })).toEqual(['$.riskScore: above maximum']);
    expect(validate(schema, { ...referral, grading: { sourceEvaluation: 2, intelligenceAssessment: 'B', handlingCode: 'P' } })).toEqual([]);
  });
});
