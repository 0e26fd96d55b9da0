// 999 guidance, sent first whenever a message suggests immediate danger.
import type { TurnContext } from 'botbuilder';
import type { Content } from '../bot/content';
import { turnInfo } from './turn';

export async function sendDangerGuidance(context: TurnContext, content: Content): Promise<void> {
  await context.sendActivity(content.messages.t('danger'));
}

/**
 * When a turn fails (storage down, a bug), the person still gets the safety
 * numbers, and 999 guidance first if their message signalled danger.
 */
export async function sendSafetyFallback(context: TurnContext, content: Content): Promise<void> {
  if (turnInfo(context).safety.danger) await sendDangerGuidance(context, content);
  await context.sendActivity(content.messages.t('error_safety'));
}
