// Structured logs. Anonymity rule: never log message text, phone numbers,
// IP addresses or user agents. Redaction below is a safety net, not a licence.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    redact: {
      paths: [
        'req.headers',
        'req.remoteAddress',
        'req.remotePort',
        '*.from',
        '*.From',
        '*.to',
        '*.To',
        '*.text',
        '*.Body',
        'text',
        'phone',
        'ip',
      ],
      censor: '[redacted]',
    },
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * What may be logged about an error: its class, code and, for our own errors,
 * the message. Prisma validation messages can echo query values (staff notes,
 * reporter text), so their messages are never logged.
 */
export function loggableError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  const isPrisma = err.constructor?.name?.startsWith('Prisma') ?? false;
  return {
    name: err.name,
    ...(typeof code === 'string' ? { code } : {}),
    ...(isPrisma ? {} : { message: err.message.slice(0, 300) }),
    stack: err.stack?.split('\n').slice(1, 6).join('\n'),
  };
}
