// 999 guidance, sent first whenever a message suggests immediate danger.
import type { TurnContext } from 'botbuilder';
import type { Content } from '../bot/content';

export async function sendDangerGuidance(context: TurnContext, content: Content): Promise<void> {
  await context.sendActivity(content.messages.t('danger'));
}
