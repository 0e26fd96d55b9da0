// OpenAPI 3.1 description of /api/hub. The referral body is the project's
// referral JSON Schema (docs/referral.schema.json), embedded as a component.
import fs from 'node:fs';
import path from 'node:path';
import { AGENCIES, API_PAGE_SIZE_DEFAULT, API_PAGE_SIZE_MAX, HANDLING_CODES, INTEL_ASSESSMENTS, OUTCOMES, SCOPES, SOURCE_EVALUATIONS } from './constants';
import { CONCERN_TYPES, RESIDENCIES, STATUS_FILTERS } from './referrals/queue';

type Json = Record<string, unknown>;

function findSchemaFile(): string | undefined {
  const candidates = [
    path.resolve(process.cwd(), 'docs', 'referral.schema.json'),
    path.resolve(__dirname, '..', 'docs', 'referral.schema.json'),
    path.resolve(__dirname, '..', '..', 'docs', 'referral.schema.json'),
  ];
  return candidates.find((f) => fs.existsSync(f));
}

/** Load the referral schema and lift its $defs into components (rewriting local refs). */
export function referralSchemaComponents(): Record<string, Json> {
  const file = findSchemaFile();
  if (!file) return { Referral: { type: 'object', description: 'See docs/referral.schema.json.' } };
  let schema: Json;
  try {
    schema = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
  } catch {
    return { Referral: { type: 'object', description: 'See docs/referral.schema.json.' } };
  }
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    const out: Json = {};
    for (const [k, v] of Object.entries(node as Json)) {
      if (k === '$ref' && typeof v === 'string') {
        out[k] = v.replace(/^#\/(\$defs|definitions)\//, '#/components/schemas/').replace(/^#$/, '#/components/schemas/Referral');
      } else out[k] = rewrite(v);
    }
    return out;
  };
  const { $defs, definitions, $schema: _s, $id: _i, ...rest } = schema as Json & { $defs?: Json; definitions?: Json };
  const components: Record<string, Json> = {};
  for (const [name, def] of Object.entries({ ...(definitions ?? {}), ...($defs ?? {}) })) components[name] = rewrite(def) as Json;
  components.Referral = rewrite(rest) as Json;
  return components;
}

const error = { $ref: '#/components/responses/Error' };
const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

export function buildOpenApi(publicBaseUrl: string): Json {
  const filterParams = [
    { name: 'status', in: 'query', schema: { type: 'string', enum: [...STATUS_FILTERS], default: 'open' }, description: '"open" means not closed.' },
    { name: 'urgency', in: 'query', schema: { type: 'string', enum: ['immediate', 'high', 'standard'] } },
    { name: 'town', in: 'query', schema: { type: 'string', maxLength: 100 } },
    { name: 'concernType', in: 'query', schema: { type: 'string', enum: [...CONCERN_TYPES] } },
    { name: 'indicator', in: 'query', schema: { type: 'string' }, description: 'An indicator code.' },
    { name: 'residency', in: 'query', schema: { type: 'string', enum: [...RESIDENCIES] } },
    { name: 'overdue', in: 'query', schema: { type: 'boolean' }, description: 'Only new referrals past their triage target.' },
  ];
  const referenceParam = { name: 'reference', in: 'path', required: true, schema: { type: 'string' } };
  const secured = (scope: string) => [{ bearer: [scope] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'SpeakSafe hub API',
      version: '1.0.0',
      description:
        'Referrals for multi-agency safeguarding hub staff. Authenticate with `Authorization: Bearer <token>`; an admin creates tokens in the hub or with `npm run hub:token`. Every call is written to the audit log. Lists are ordered by urgency, then by age (oldest first).',
    },
    servers: [{ url: `${publicBaseUrl}/api/hub` }],
    security: [{ bearer: [] }],
    paths: {
      '/referrals': {
        get: {
          summary: 'List referrals (the triage queue)',
          security: secured('referrals:read'),
          parameters: [
            ...filterParams,
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: API_PAGE_SIZE_MAX, default: API_PAGE_SIZE_DEFAULT } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor from the previous page.' },
          ],
          responses: {
            '200': {
              description: 'A page of referrals',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['items', 'nextCursor'],
                    properties: { items: { type: 'array', items: ref('Referral') }, nextCursor: { type: ['string', 'null'] } },
                  },
                },
              },
            },
            '400': error,
            '401': error,
            '403': error,
          },
        },
      },
      '/referrals/{reference}': {
        get: {
          summary: 'One referral',
          security: secured('referrals:read'),
          parameters: [referenceParam],
          responses: {
            '200': {
              description: 'The referral. The ETag header carries its version for If-Match.',
              headers: { ETag: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: ref('Referral') } },
            },
            '401': error,
            '403': error,
            '404': error,
          },
        },
      },
      '/referrals/{reference}/events': {
        get: {
          summary: 'Notes, transitions and grading changes on a referral',
          security: secured('referrals:read'),
          parameters: [referenceParam],
          responses: { '200': { description: 'Events, oldest first', content: { 'application/json': { schema: { type: 'object' } } } }, '401': error, '403': error, '404': error },
        },
      },
      '/referrals/{reference}/transitions': {
        post: {
          summary: 'Move a referral through the workflow',
          description:
            'new → triaged; triaged → assigned (agency required; assigned → assigned reassigns); triaged|assigned → closed (outcome and reason required); closed → triaged reopens (reason required). Tokens cannot close a referral whose urgency is immediate or high or whose risk is unknown: a supervisor must close it in the hub (403 needs_supervisor). Send the version you saw (body `version` or `If-Match`) to get 409 version_conflict instead of overwriting someone else\'s change.',
          security: secured('referrals:write'),
          parameters: [referenceParam, { name: 'If-Match', in: 'header', schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['to'],
                  properties: {
                    to: { type: 'string', enum: ['triaged', 'assigned', 'closed'] },
                    agency: { type: 'string', enum: [...AGENCIES] },
                    outcome: { type: 'string', enum: [...OUTCOMES] },
                    reason: { type: 'string', maxLength: 2000 },
                    version: { type: 'integer', minimum: 0 },
                  },
                },
              },
            },
          },
          responses: {
            '200': { description: 'The referral after the change', content: { 'application/json': { schema: ref('Referral') } } },
            '400': error,
            '401': error,
            '403': error,
            '404': error,
            '409': error,
          },
        },
      },
      '/referrals/{reference}/notes': {
        post: {
          summary: 'Add a note',
          security: secured('referrals:write'),
          parameters: [referenceParam],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 5000 } } } } },
          },
          responses: { '201': { description: 'The note', content: { 'application/json': { schema: { type: 'object' } } } }, '400': error, '401': error, '403': error, '404': error },
        },
      },
      '/referrals/{reference}/grading': {
        post: {
          summary: 'Grade a referral with 3x5x2',
          security: secured('referrals:write'),
          parameters: [referenceParam],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['sourceEvaluation', 'intelligenceAssessment', 'handlingCode'],
                  properties: {
                    sourceEvaluation: { type: 'string', enum: [...SOURCE_EVALUATIONS] },
                    intelligenceAssessment: { type: 'string', enum: [...INTEL_ASSESSMENTS] },
                    handlingCode: { type: 'string', enum: [...HANDLING_CODES] },
                    version: { type: 'integer', minimum: 0 },
                  },
                },
              },
            },
          },
          responses: { '200': { description: 'The referral', content: { 'application/json': { schema: ref('Referral') } } }, '400': error, '401': error, '403': error, '404': error, '409': error },
        },
      },
      '/export.csv': {
        get: {
          summary: 'Export the filtered queue as CSV',
          description: 'Cells that start with = + - @, tab or carriage return are prefixed with a single quote.',
          security: secured('export'),
          parameters: filterParams,
          responses: { '200': { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } }, '401': error, '403': error },
        },
      },
      '/export.json': {
        get: {
          summary: 'Export the filtered queue as JSON',
          security: secured('export'),
          parameters: filterParams,
          responses: {
            '200': {
              description: 'Export',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      exportedAt: { type: 'string', format: 'date-time' },
                      filters: { type: 'object' },
                      count: { type: 'integer' },
                      truncated: { type: 'boolean' },
                      referrals: { type: 'array', items: ref('Referral') },
                    },
                  },
                },
              },
            },
            '401': error,
            '403': error,
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' }, '401': error } },
      },
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: `Scopes: ${SCOPES.join(', ')}. Tokens are shown once when created and stored hashed.`,
        },
      },
      responses: {
        Error: {
          description: 'An error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['error'],
                properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
              },
            },
          },
        },
      },
      schemas: referralSchemaComponents(),
    },
  };
}
