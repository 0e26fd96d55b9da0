// Runs one turn of the bot in process and returns its replies. SpeakSafe's own
// channels (SMS, the self-hosted Direct Line, the terminal chat) use this
// instead of calling back through a Bot Framework connector.
import crypto from 'node:crypto';
import { ActivityTypes, BotAdapter, DeliveryModes, TurnContext, type Activity, type ConversationReference, type ResourceResponse } from 'botbuilder';

/**
 * Turn-state flag: the message just handled must not be kept in words (contact
 * details the referral dialog sealed). A channel that stores a transcript keeps
 * a placeholder instead of the text.
 */
const SENSITIVE_INPUT = Symbol.for('speaksafe.sensitiveInput');

export function markSensitiveInput(context: TurnContext): void {
  context.turnState.set(SENSITIVE_INPUT, true);
}

export interface TurnResult {
  replies: Activity[];
  /** True when the inbound message must not be stored in words (see markSensitiveInput). */
  sensitiveInput: boolean;
}

class InProcessAdapter extends BotAdapter {
  async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    // Only reached for activities sent outside expectReplies (none today).
    context.bufferedReplyActivities.push(...(activities as unknown as Activity[]));
    return activities.map(() => ({ id: crypto.randomUUID() }));
  }
  async updateActivity(): Promise<void> {
    throw new Error('updateActivity is not supported in process');
  }
  async deleteActivity(): Promise<void> {
    throw new Error('deleteActivity is not supported in process');
  }
  async continueConversation(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'continueConversation' }, reference, true);
    await this.runMiddleware(new TurnContext(this, activity), logic);
  }
  async turn(activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<TurnResult> {
    const context = new TurnContext(this, activity);
    await this.runMiddleware(context, logic);
    return {
      replies: (context.bufferedReplyActivities as Activity[]).filter((a) => a.type === ActivityTypes.Message),
      sensitiveInput: context.turnState.get(SENSITIVE_INPUT) === true,
    };
  }
}

export interface Turnable {
  run(context: TurnContext): Promise<void>;
}

export interface InboundMessage {
  channelId: string;
  conversationId: string;
  userId: string;
  text?: string;
  type?: string;
  attachments?: Activity['attachments'];
  value?: unknown;
  membersAdded?: Activity['membersAdded'];
  locale?: string;
}

export class BotRunner {
  private readonly adapter = new InProcessAdapter();

  constructor(private readonly bot: Turnable) {}

  /** Run one activity through the bot; resolves with the bot's message replies. */
  async run(input: InboundMessage): Promise<Activity[]> {
    return (await this.turn(input)).replies;
  }

  /** As run, and also says whether the inbound message must not be stored in words. */
  async turn(input: InboundMessage): Promise<TurnResult> {
    const activity = {
      type: input.type ?? ActivityTypes.Message,
      id: crypto.randomUUID(),
      timestamp: new Date(),
      serviceUrl: 'urn:speaksafe:in-process',
      channelId: input.channelId,
      conversation: { id: input.conversationId, isGroup: false, conversationType: 'personal', name: '' },
      from: { id: input.userId, name: '' },
      recipient: { id: 'speaksafe', name: 'SpeakSafe' },
      text: input.text,
      attachments: input.attachments,
      value: input.value,
      membersAdded: input.membersAdded,
      locale: input.locale ?? 'en-GB',
      deliveryMode: DeliveryModes.ExpectReplies,
    } as Activity;
    return this.adapter.turn(activity, (context) => this.bot.run(context));
  }
}
