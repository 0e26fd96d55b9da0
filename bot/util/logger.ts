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
