// Every setting comes from the environment, validated once at start-up.
// `.env.example` documents each variable; keep the two in step.
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3978),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_BASE_URL: optionalString.pipe(z.url().optional()),
  DATABASE_URL: z
    .string()
    .default('file:./data/speaksafe.db')
    .refine((v) => v.startsWith('file:'), 'must be a SQLite URL such as file:./data/speaksafe.db'),
  // How long a query waits on a database another process has locked before it fails.
  DB_BUSY_TIMEOUT_MS: positiveInt(5000),
  CONTENT_DIR: z.string().default('content'),
  AREA: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'must be an area id such as dorset (a file content/areas/<id>.yml)')
    .default('dorset'),
  LOCALE: z.string().default('en'),

  // Azure Bot Service credentials (botbuilder's own names). Empty = local only.
  MicrosoftAppId: optionalString,
  MicrosoftAppPassword: optionalString,
  MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  MicrosoftAppTenantId: optionalString,
  // Without Azure credentials /api/messages serves loopback callers only.
  // Setting this lets other hosts in, for a trusted development network only.
  ALLOW_UNAUTHENTICATED_REMOTE: bool,

  // Secrets. Required in production; generated once into ./data for local use.
  IDENTITY_HASH_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  CONTACT_ENCRYPTION_KEY: optionalString.pipe(
    z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes, base64 encoded (openssl rand -base64 32)').optional(),
  ),
  TOKEN_SIGNING_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),

  // NLU
  NLU_THRESHOLD: z.coerce.number().min(0).max(1).optional(),

  // SMS (Twilio)
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_FROM_NUMBER: optionalString,
  SMS_REPLY_TIMEOUT_MS: positiveInt(10000),

  // Hub alerts (Teams/Slack-style incoming webhook)
  HUB_ALERT_WEBHOOK_URL: optionalString.pipe(z.url().optional()),
  OUTBOX_POLL_MS: positiveInt(2000),
  OUTBOX_MAX_ATTEMPTS: positiveInt(20),

  // Hub targets, in minutes
  TARGET_IMMEDIATE_MINUTES: positiveInt(60),
  TARGET_HIGH_MINUTES: positiveInt(24 * 60),
  TARGET_STANDARD_MINUTES: positiveInt(5 * 24 * 60),
  HUB_SESSION_HOURS: positiveInt(8),
  // Minutes without using the hub before a session ends (a warning comes first).
  HUB_SESSION_IDLE_MINUTES: z.coerce.number().int().min(2).max(24 * 60).default(60),

  // Abuse limits on public endpoints
  RATE_LIMIT_PER_CONVERSATION: positiveInt(30), // messages per minute
  RATE_LIMIT_PER_SOURCE: positiveInt(600), // requests per minute per source
  MAX_BODY_BYTES: positiveInt(64 * 1024),
  MAX_MESSAGE_CHARS: positiveInt(4000),
});

export type RawConfig = z.infer<typeof schema>;

export interface Config extends RawConfig {
  publicBaseUrl: string;
  databaseFile: string;
  azureAuth: boolean;
}

export class ConfigError extends Error {}

/** Parse and validate the environment. Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nSee .env.example for every setting.`);
  }
  const c = parsed.data;
  if (c.NODE_ENV === 'production') {
    const missing = (['IDENTITY_HASH_SECRET', 'CONTACT_ENCRYPTION_KEY', 'TOKEN_SIGNING_SECRET'] as const).filter(
      (k) => !c[k],
    );
    if (missing.length) {
      throw new ConfigError(
        `Invalid configuration:\n${missing.map((k) => `  ${k}: required when NODE_ENV=production`).join('\n')}`,
      );
    }
  }
  if (c.MicrosoftAppId && !c.MicrosoftAppPassword && c.MicrosoftAppType !== 'UserAssignedMSI') {
    throw new ConfigError('Invalid configuration:\n  MicrosoftAppPassword: required when MicrosoftAppId is set');
  }
  return {
    ...c,
    publicBaseUrl: (c.PUBLIC_BASE_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    databaseFile: c.DATABASE_URL.slice('file:'.length),
    azureAuth: Boolean(c.MicrosoftAppId),
  };
}
