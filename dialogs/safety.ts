// 999 guidance, sent first whenever a message suggests immediate danger.
import type { TurnContext } from 'botbuilder';
import type { Content } from '../bot/content';
import { turnInfo } from './turn';

const DANGER_SENT = Symbol.for('speaksafe.dangerSent');

export async function sendDangerGuidance(context: TurnContext, content: Content): Promise<void> {
  await context.sendActivity(content.messages.t('danger'));
  if (turnInfo(context).safety.category === 'self_harm') await context.sendActivity(content.messages.t('self_harm'));
  context.turnState.set(DANGER_SENT, true);
}

/**
 * When a turn fails (storage down, a bug), the person still gets the safety
 * numbers, and 999 guidance first if their message signalled danger.
 */
export async function sendSafetyFallback(context: TurnContext, content: Content): Promise<void> {
  // Once per turn: a turn that failed after the guidance went out doesn't repeat it.
  if (turnInfo(context).safety.danger && !context.turnState.get(DANGER_SENT)) await sendDangerGuidance(context, content);
  await context.sendActivity(content.messages.t('error_safety'));
}
