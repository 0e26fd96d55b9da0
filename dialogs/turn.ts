// What the bot learned about the current message before any dialog runs:
// the NLU result and the safety check. Computed once per turn.
import type { TurnContext } from 'botbuilder';
import type { NluResult } from '../bot/nlu/nlu';
import type { DangerSource } from '../bot/referrals/types';

export interface SafetyCheck {
  danger: boolean;
  by: 'rule' | 'nlu' | null;
  rule?: string;
  /** 'self_harm' when a self-harm phrase matched: Samaritans and Childline follow the danger message. */
  category?: 'danger' | 'self_harm';
}

export interface TurnInfo {
  text: string;
  nlu: NluResult | null;
  safety: SafetyCheck;
}

const KEY = Symbol.for('speaksafe.turnInfo');

export function setTurnInfo(context: TurnContext, info: TurnInfo): void {
  context.turnState.set(KEY, info);
}

export function turnInfo(context: TurnContext): TurnInfo {
  return (
    (context.turnState.get(KEY) as TurnInfo | undefined) ?? {
      text: context.activity.text ?? '',
      nlu: null,
      safety: { danger: false, by: null },
    }
  );
}

/** Danger reported during this conversation, kept so a referral in progress carries it. */
export interface SafetyState {
  count: number;
  /**
   * How many of them matched a danger phrase (the rest the classifier alone flagged). Absent in
   * states saved before it was counted: then every one counts as a phrase match, the stricter reading.
   */
  byPhrase?: number;
  notes: string[];
}
export const emptySafety = (): SafetyState => ({ count: 0, byPhrase: 0, notes: [] });

/** What fired the safety check in this conversation, for the referral's urgency rules. */
export function dangerSource(safety: SafetyState): DangerSource | undefined {
  if (safety.count <= 0) return undefined;
  return (safety.byPhrase ?? safety.count) > 0 ? 'phrase' : 'classifier';
}
