// Phases run in this process, on SpeakSafe's own modules: the referral commit
// path (assess + ReferralStore.create, one transaction) and NLU classification.
import fs from 'node:fs';
import path from 'node:path';
import { createApp } from '../../bot/app';
import { loadConfig } from '../../bot/config';
import { NluService } from '../../bot/nlu/nlu';
import type { Entities, ReferralDraft } from '../../bot/referrals/types';
import { loop, type PhaseResult } from './load';
import { tempDir } from './phases';

const noEntities = (): Entities => ({ phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] });

/** Drafts as the referral dialog builds them, varied so urgencies (and so hub alerts) differ. */
function draft(i: number, towns: string[]): ReferralDraft {
  const town = towns[i % towns.length];
  switch (i % 3) {
    case 0:
      return {
        concernType: 'young_person',
        subject: { ageBand: '13_15', residency: 'lives_here', name: `J${i}` },
        location: { town, postcodeDistrict: 'BH1' },
        when: 'this_week',
        indicators: [
          { code: 'yp_multiple_phones', source: 'choice' },
          { code: 'yp_older_associates', source: 'choice' },
          { code: 'yp_unknown_cars', source: 'text' },
        ],
        narrative: `Older lads pick him up after school in a silver car and he has a second phone (${i}).`,
        reporterRelationship: 'neighbour',
        knowledge: 'saw',
        dangerReported: false,
        entities: { ...noEntities(), vehicles: [`AB${i % 100}CDE`] },
      };
    case 1:
      return {
        concernType: 'home_takeover',
        subject: { ageBand: '25_plus', residency: 'lives_here' },
        location: { town, detail: `Flat ${i % 40}` },
        when: 'ongoing',
        indicators: [
          { code: 'ck_frequent_visitors', source: 'choice' },
          { code: 'ck_all_hours', source: 'choice' },
        ],
        narrative: `Lots of visitors at all hours at the flat upstairs, the tenant seems scared (${i}).`,
        reporterRelationship: 'neighbour',
        knowledge: 'suspects',
        dangerReported: false,
        entities: noEntities(),
      };
    default:
      return {
        concernType: 'young_person',
        subject: { ageBand: '16_17', residency: 'visiting', homeArea: 'London' },
        location: { town },
        when: 'now',
        indicators: [
          { code: 'cl_weapons', source: 'text' },
          { code: 'yp_missing_now', source: 'choice' },
        ],
        narrative: `A boy from London is staying at the house and has a knife, he has been reported missing (${i}).`,
        reporterRelationship: 'professional',
        knowledge: 'told',
        dangerReported: true,
        entities: { ...noEntities(), phones: [`07700 ${String(900000 + (i % 1000))}`] },
      };
  }
}

/**
 * Referral submissions as the referral dialog commits them: assess() then
 * ReferralStore.create() (referral, indicators, entities, sealed contact for
 * one in four, hub alert for immediate/high) in one transaction, on a fresh
 * SQLite file, at `concurrency` submissions in flight.
 */
export async function referralCommitPhase(env: NodeJS.ProcessEnv, concurrency: number, warmupS: number, durationS: number): Promise<PhaseResult> {
  const dir = tempDir('speaksafe-bench-referrals-');
  const app = await createApp(
    loadConfig({ ...env, NODE_ENV: 'production', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${path.join(dir, 'referrals.db')}` }),
  );
  try {
    const { referrals, referralDomain, content, db } = app.services;
    const towns = content.area.towns.map((t) => t.name);
    let i = 0;
    const urgencies: Record<string, number> = {};
    const stats = await loop({
      concurrency,
      warmupMs: warmupS * 1000,
      durationMs: durationS * 1000,
      iteration: async () => {
        const n = (i += 1);
        const d = draft(n, towns);
        const assessment = referralDomain.assess(d);
        urgencies[assessment.urgency] = (urgencies[assessment.urgency] ?? 0) + 1;
        await referrals.create({ draft: d, assessment, channel: 'bench', contact: n % 4 === 0 ? `Call me after 6pm on 07700 900${String(n % 1000).padStart(3, '0')}` : undefined });
      },
    });
    const stored = await db.referral.count();
    const alerts = await db.outboxMessage.count();
    if (stored < stats.count) throw new Error(`only ${stored} referrals stored, ${stats.count} reported committed`);
    return {
      id: 'referral-commit',
      title: 'Referral submissions, commit path (in process)',
      against: 'in-process',
      unit: 'referral',
      concurrency,
      ...stats,
      extra: { stored, hubAlerts: alerts, urgencies: Object.entries(urgencies).map(([k, v]) => `${k} ${v}`).join(', ') },
    };
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const STEMS = [
  'what is cuckooing',
  'my neighbour has loads of visitors',
  'i think my son is involved in county lines',
  'how do i report something',
  'is this anonymous',
  'someone is taking over a flat',
  'what happens next',
  'where can i get help',
  'hello',
  'signs a young person is being exploited',
];
const WORDS = (
  'late night cars boys phone money bike trainers school missing flat door knock stranger ' +
  'scared dealer drugs knife older friend gang city train cash bag police worried sister brother ' +
  'landlord tenant stairs smell noise party visitors hours week'
).split(' ');

/** A distinct utterance for each i (no two equal while i < STEMS × WORDS³). */
export function utterance(i: number): string {
  const w = WORDS.length;
  return `${STEMS[i % STEMS.length]} ${WORDS[Math.floor(i / STEMS.length) % w]} ${WORDS[Math.floor(i / (STEMS.length * w)) % w]} ${
    WORDS[Math.floor(i / (STEMS.length * w * w)) % w]
  }`;
}

/** NLU classifications per second: train as the service does, then classify distinct utterances back to back. */
export async function nluPhase(contentDir: string, warmupS: number, durationS: number): Promise<PhaseResult> {
  const trainStarted = performance.now();
  const nlu = await NluService.train({ contentDir: path.join(contentDir, 'nlu'), locales: ['en'] });
  const trainMs = performance.now() - trainStarted;
  let i = 0;
  const intents: Record<string, number> = {};
  const stats = await loop({
    concurrency: 1,
    warmupMs: warmupS * 1000,
    durationMs: durationS * 1000,
    iteration: async () => {
      const r = await nlu.classify(utterance((i += 1)), 'en-GB');
      intents[r.intent] = (intents[r.intent] ?? 0) + 1;
    },
  });
  return {
    id: 'nlu',
    title: 'NLU classifications (in process, one core)',
    against: 'in-process',
    unit: 'classification',
    concurrency: 1,
    ...stats,
    extra: { trainMs: Math.round(trainMs), distinctIntents: Object.keys(intents).length, cacheEntries: nlu.cacheSizes().utterances },
  };
}

/**
 * The bot's turn alone: what every channel runs (NLU, safety check, dialogs,
 * state read and durable write), called in process through the BotRunner the
 * SMS and Direct Line channels use, with no HTTP, signature or rendering. The
 * same message as the SMS phase, each from a new conversation, 50 in flight,
 * on its own fresh SQLite file. It bounds what any channel can reach: a channel
 * can be no faster than the turn it runs.
 */
export async function botTurnPhase(env: NodeJS.ProcessEnv, concurrency: number, warmupS: number, durationS: number): Promise<PhaseResult> {
  const dir = tempDir('speaksafe-bench-turns-');
  const app = await createApp(
    loadConfig({ ...env, NODE_ENV: 'production', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${path.join(dir, 'turns.db')}` }),
  );
  try {
    const { runner } = app.services;
    let i = 0;
    let empty = 0;
    const stats = await loop({
      concurrency,
      warmupMs: warmupS * 1000,
      durationMs: durationS * 1000,
      iteration: async () => {
        const id = `bench-turn-${(i += 1)}`;
        const replies = await runner.run({ channelId: 'sms', conversationId: id, userId: id, text: 'what is cuckooing' });
        if (!replies.some((r) => typeof r.text === 'string' && r.text)) {
          empty += 1;
          throw new Error('the turn sent no message');
        }
      },
    });
    return { id: 'bot-turn', title: 'Bot turn alone (in process, no HTTP)', against: 'in-process', unit: 'turn', concurrency, ...stats, extra: { turnsWithoutReply: empty } };
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
