// Drives the bot like a person: send text, read replies and the offered options.
import crypto from 'node:crypto';
import type { Activity } from 'botbuilder';
import type { BotRunner } from '../../bot/channels/botRunner';

export const REFERENCE_RE = /\b[A-Z2-9]{4}-[A-Z2-9]{4}\b/;

export class Conversation {
  replies: Activity[] = [];
  constructor(
    private readonly runner: BotRunner,
    readonly channelId = 'test',
    readonly conversationId = `c-${crypto.randomUUID()}`,
    readonly userId = `u-${crypto.randomUUID()}`,
  ) {}

  async start(): Promise<Activity[]> {
    this.replies = await this.runner.run({
      type: 'conversationUpdate',
      membersAdded: [{ id: this.userId, name: '' }],
      channelId: this.channelId,
      conversationId: this.conversationId,
      userId: this.userId,
    });
    return this.replies;
  }

  async say(text: string): Promise<Activity[]> {
    this.replies = await this.runner.run({ channelId: this.channelId, conversationId: this.conversationId, userId: this.userId, text });
    return this.replies;
  }

  /** Click the option whose title matches (exact, then case-insensitive substring). */
  async pick(title: string | RegExp): Promise<Activity[]> {
    const options = this.options();
    const found =
      options.find((o) => (typeof title === 'string' ? o === title : title.test(o))) ??
      (typeof title === 'string' ? options.find((o) => o.toLowerCase().includes(title.toLowerCase())) : undefined);
    if (!found) throw new Error(`No option ${title} in [${options.join(' | ')}]; last replies: ${this.text()}`);
    return this.say(found);
  }

  text(): string {
    return this.replies.map((r) => r.text ?? '').join('\n---\n');
  }

  options(): string[] {
    const last = [...this.replies].reverse().find((r) => r.suggestedActions?.actions?.length);
    return (last?.suggestedActions?.actions ?? []).map((a) => String(a.title));
  }

  reference(): string | undefined {
    return REFERENCE_RE.exec(this.text())?.[0];
  }
}
