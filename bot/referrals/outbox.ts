// Delivers hub alerts from the outbox table. Rows are written in the same
// transaction as their referral, so an alert can't be lost; this worker posts
// them to the configured webhook and retries with backoff until the receiver
// answers 2xx. Each row is claimed with a lease, so two instances don't both
// send it, and carries an Idempotency-Key for receivers that dedupe.
import type { Db } from '../db/prisma';
import { loggableError, type Logger } from '../util/logger';

export interface OutboxOptions {
  webhookUrl?: string;
  pollMs: number;
  batchSize?: number;
  leaseMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
}

export interface HubAlert {
  reference: string;
  urgency: string;
  link: string;
}

export function alertBody(alert: HubAlert): Record<string, unknown> {
  // `text` is what Slack and Teams incoming webhooks display. No personal details.
  return {
    text: `SpeakSafe: new ${alert.urgency.toUpperCase()} referral ${alert.reference}. Open it in the hub: ${alert.link}`,
    ...alert,
  };
}

export class OutboxWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly options: OutboxOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.options.webhookUrl || this.timer) return;
    this.stopped = false;
    const loop = async (): Promise<void> => {
      await this.drain().catch((err) => this.logger.warn({ err: loggableError(err) }, 'outbox tick failed'));
      if (!this.stopped) this.timer = setTimeout(loop, this.options.pollMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Deliver what is due now. Returns how many were sent. */
  drain(): Promise<number> {
    if (!this.running) {
      this.running = this.deliverDue().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async deliverDue(): Promise<number> {
    const url = this.options.webhookUrl;
    if (!url) return 0;
    const now = new Date();
    const due = await this.db.outboxMessage.findMany({
      where: { status: 'pending', nextAttemptAt: { lte: now }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] },
      orderBy: { createdAt: 'asc' },
      take: this.options.batchSize ?? 20,
    });
    let sent = 0;
    for (const row of due) {
      const lease = new Date(Date.now() + (this.options.leaseMs ?? 30000));
      const claimed = await this.db.outboxMessage.updateMany({
        where: { id: row.id, status: 'pending', OR: [{ lockedUntil: null }, { lockedUntil: { lt: new Date() } }] },
        data: { lockedUntil: lease },
      });
      if (claimed.count !== 1) continue;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': row.dedupeKey },
          body: JSON.stringify(alertBody(JSON.parse(row.payload) as HubAlert)),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
          redirect: 'error',
        });
        if (!res.ok) throw new Error(`webhook answered ${res.status}`);
        await this.db.outboxMessage.update({
          where: { id: row.id },
          data: { status: 'sent', sentAt: new Date(), attempts: { increment: 1 }, lockedUntil: null, lastError: null },
        });
        sent++;
      } catch (err) {
        const attempts = row.attempts + 1;
        const backoff = Math.min(1000 * 2 ** Math.min(attempts, 16), this.options.maxBackoffMs ?? 5 * 60 * 1000);
        await this.db.outboxMessage.update({
          where: { id: row.id },
          data: { attempts, nextAttemptAt: new Date(Date.now() + backoff), lockedUntil: null, lastError: (err as Error).message.slice(0, 300) },
        });
        this.logger.warn({ attempts, reference: JSON.parse(row.payload).reference }, 'hub alert delivery failed; will retry');
      }
    }
    return sent;
  }
}
