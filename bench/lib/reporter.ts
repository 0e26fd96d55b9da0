// A scripted reporter who answers the referral questions, recognised by their
// copy in content/ (the same answers the channel tests give), so the benchmark
// can run complete referral conversations.
import type { Messages } from '../../bot/content';

export type Answer = { pick: string } | { say: string };

export function reporterAnswer(m: Messages, text: string, options: string[], townName: string): Answer {
  const has = (key: string, vars?: Record<string, unknown>): boolean => text.includes(m.t(key, vars));
  const who = { who: m.t('referral.who.young_person') };
  if (options.includes(m.t('audience.parent_carer'))) return { pick: m.t('audience.parent_carer') };
  if (options.includes(m.t('menu.report'))) return { pick: m.t('menu.report') };
  if (options.includes(m.t('referral.send'))) return { pick: m.t('referral.send') };
  if (options.includes(m.t('referral.signs_done'))) return { pick: m.t('referral.signs_done') };
  if (options.includes(m.t('referral.signs_none'))) return { pick: options[0] };
  if (has('referral.ask.concern')) return { pick: m.t('referral.options.concern.young_person') };
  if (has('referral.ask.age', who)) return { pick: m.t('referral.options.age.13_15') };
  if (has('referral.ask.name')) return { say: 'Little J' };
  if (has('referral.ask.residency', who)) return { pick: m.t('referral.options.residency.lives_here') };
  if (has('referral.ask.where')) return { pick: townName };
  if (has('referral.ask.when')) return { pick: m.t('referral.options.when.this_week') };
  if (has('referral.ask.story')) return { say: 'Older lads pick him up after school in a silver car and he has a second phone.' };
  if (has('referral.ask.relationship', who)) return { pick: m.t('referral.options.relationship.neighbour') };
  if (has('referral.ask.knowledge')) return { pick: m.t('referral.options.knowledge.saw') };
  if (options.includes(m.t('referral.contact_no'))) return { pick: m.t('referral.contact_no') };
  if (options.includes(m.t('referral.skip'))) return { pick: m.t('referral.skip') };
  throw new Error(`the reporter has no answer for: ${text.slice(0, 60)}`);
}
