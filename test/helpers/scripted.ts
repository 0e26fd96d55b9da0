// Scripted clients shared by the channel tests and the benchmarks (bench/):
// the form Twilio posts for an incoming SMS, and a reporter who answers the
// referral questions. No test framework here, so the benchmark can load it.
import type { Messages } from '../../bot/content';

/** Every field Twilio's Messaging webhook posts for an incoming SMS. */
export function twilioForm(from: string, body: string, messageSid: string): Record<string, string> {
  return {
    ToCountry: 'GB',
    ToState: '',
    SmsMessageSid: messageSid,
    NumMedia: '0',
    ToCity: '',
    FromZip: '',
    SmsSid: messageSid,
    FromState: '',
    SmsStatus: 'received',
    FromCity: '',
    Body: body,
    FromCountry: 'GB',
    To: '+447700900000',
    ToZip: '',
    NumSegments: '1',
    MessageSid: messageSid,
    AccountSid: `AC${'0'.repeat(32)}`,
    From: from,
    ApiVersion: '2010-04-01',
  };
}

export type Answer = { pick: string } | { say: string };

/**
 * What a neighbour reporting a worry answers, given the bot's last words and
 * the options offered. Questions are recognised by their copy in content/.
 */
export function reporterAnswer(m: Messages, text: string, options: string[], townName: string): Answer {
  const has = (key: string, vars?: Record<string, unknown>): boolean => text.includes(m.t(key, vars));
  const who = { who: m.t('referral.who.young_person') };
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
  throw new Error(`The reporter doesn't know how to answer: ${text}\nOptions: ${options.join(' | ')}`);
}
