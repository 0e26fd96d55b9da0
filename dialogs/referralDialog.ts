// Report a worry: a short, skippable conversation that becomes a structured,
// anonymous referral. A small state machine rather than a waterfall, so every
// question supports "skip", "back", "start again" and corrections from the
// summary. The reporter gets a reference code only after the referral commits.
import crypto from 'node:crypto';
import type { StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { DialogContext, DialogInstance, DialogTurnResult } from 'botbuilder-dialogs';
import { Dialog } from './framework';
import type { Answers, Content } from '../bot/content';
import type { ReferralDomain } from '../bot/referrals/domain';
import type { ReferralStore } from '../bot/referrals/repository';
import {
  emptyEntities,
  type AgeBand,
  type ConcernType,
  type Entities,
  type Knowledge,
  type ReferralDraft,
  type Relationship,
  type Residency,
  type WhenCode,
} from '../bot/referrals/types';
import { markSensitiveInput } from '../bot/channels/botRunner';
import { loggableError, type Logger } from '../bot/util/logger';
import type { Sealed } from '../bot/util/crypto';
import { matchOption, normalise, normaliseWords, withOptions, type Option } from './choices';
import { sendDangerGuidance } from './safety';
import { dangerSource, emptySafety, turnInfo, type SafetyState } from './turn';

export const REFERRAL_DIALOG = 'referral';

export interface ReferralDialogDeps {
  content: Content;
  referrals: ReferralStore;
  domain: ReferralDomain;
  safety: StatePropertyAccessor<SafetyState>;
  logger: Logger;
}

type StepId =
  | 'concern'
  | 'age'
  | 'name'
  | 'residency'
  | 'homeArea'
  | 'where'
  | 'when'
  | 'signs'
  | 'story'
  | 'relationship'
  | 'knowledge'
  | 'contact'
  | 'contactDetails'
  | 'review'
  | 'edit'
  | 'leave';

const ORDER: StepId[] = [
  'concern',
  'age',
  'name',
  'residency',
  'homeArea',
  'where',
  'when',
  'signs',
  'story',
  'relationship',
  'knowledge',
  'contact',
  'contactDetails',
  'review',
];

/** Steps a reporter can go back to and correct from the summary. */
const EDITABLE: StepId[] = ['concern', 'age', 'name', 'residency', 'where', 'when', 'signs', 'story', 'relationship', 'knowledge', 'contact'];

interface State {
  draft: ReferralDraft;
  step: StepId;
  history: StepId[];
  misses: number;
  editing: boolean;
  /** Sealed (AES-256-GCM) as soon as it is typed: never in state in clear. */
  contact?: Sealed;
  wantsContact?: boolean;
  resumeStep?: StepId;
  /** Makes sending idempotent: a report sent twice is stored once (ReferralStore.create). */
  submissionKey?: string;
}

const CONCERNS: ConcernType[] = ['young_person', 'home_takeover', 'adult', 'self', 'other'];
const AGES: AgeBand[] = ['under_13', '13_15', '16_17', '18_24', '25_plus'];
const RESIDENCIES: Residency[] = ['lives_here', 'visiting'];
const WHENS = ['now', 'today', 'this_week', 'ongoing', 'past'] as const satisfies readonly WhenCode[];
const RELATIONSHIPS: Relationship[] = ['friend', 'parent_carer', 'neighbour', 'landlord_housing', 'professional', 'other'];
const KNOWLEDGE: Knowledge[] = ['saw', 'told', 'suspects'];
const DONE = '__done';
const MAX_FREE_TEXT = 2000;

export function newDraft(concern?: ConcernType): ReferralDraft {
  return {
    concernType: concern ?? 'other',
    subject: { ageBand: 'unknown', residency: 'unknown' },
    location: {},
    when: 'unknown',
    indicators: [],
    narrative: '',
    reporterRelationship: concern === 'self' ? 'self' : 'unknown',
    knowledge: 'unknown',
    dangerReported: false,
    entities: emptyEntities(),
  };
}

function mergeEntities(a: Entities, b: Entities): Entities {
  const out = emptyEntities();
  for (const k of Object.keys(out) as Array<keyof Entities>) out[k] = [...new Set([...(a[k] ?? []), ...(b[k] ?? [])])];
  return out;
}

export class ReferralDialog extends Dialog<{ concern?: ConcernType }> {
  /** content/answers.yml, normalised as replies are. */
  private readonly words: Answers;

  constructor(private readonly deps: ReferralDialogDeps) {
    super(REFERRAL_DIALOG);
    this.words = normaliseWords(deps.content.answers);
  }

  private get m() {
    return this.deps.content.messages;
  }

  override async beginDialog(dc: DialogContext, options?: { concern?: ConcernType }): Promise<DialogTurnResult> {
    const concern = options?.concern;
    const state: State = {
      draft: newDraft(concern),
      step: concern ? 'age' : 'concern',
      history: [],
      misses: 0,
      editing: false,
      submissionKey: crypto.randomUUID(),
    };
    dc.activeDialog!.state.referral = state;
    await dc.context.sendActivity(this.m.t(concern === 'self' ? 'referral.intro_self' : 'referral.intro'));
    state.step = this.firstApplicable(state, state.step);
    await this.ask(dc.context, state);
    return Dialog.EndOfTurn;
  }

  override async repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void> {
    await this.ask(context, instance.state.referral as State);
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const state = dc.activeDialog!.state.referral as State;
    // Reports begun before submission keys existed get one now, saved with this turn.
    state.submissionKey ??= crypto.randomUUID();
    const text = (turnInfo(dc.context).text ?? '').trim().slice(0, MAX_FREE_TEXT);
    const n = normalise(text);
    const m = this.m;

    if (state.step === 'leave') {
      const pick = matchOption(text, this.leaveOptions());
      if (pick?.value === 'leave') {
        await dc.context.sendActivity(m.t('referral.left'));
        return dc.endDialog({ next: { kind: 'menu' } });
      }
      state.step = state.resumeStep ?? 'concern';
      await this.ask(dc.context, state);
      return Dialog.EndOfTurn;
    }
    if (this.isCommand(n, 'leave')) {
      state.resumeStep = state.step;
      state.step = 'leave';
      await dc.context.sendActivity(withOptions(m.t('referral.leave_confirm'), this.leaveOptions()));
      return Dialog.EndOfTurn;
    }
    if (this.isCommand(n, 'restart')) {
      const concern = state.draft.concernType === 'self' ? 'self' : undefined;
      Object.assign(state, { draft: newDraft(concern), history: [], misses: 0, editing: false, contact: undefined, wantsContact: undefined });
      state.step = this.firstApplicable(state, concern ? 'age' : 'concern');
      await dc.context.sendActivity(m.t('referral.restarted'));
      await this.ask(dc.context, state);
      return Dialog.EndOfTurn;
    }
    if (this.isCommand(n, 'back')) {
      const previous = state.history.pop();
      if (previous) state.step = previous;
      state.misses = 0;
      await this.ask(dc.context, state);
      return Dialog.EndOfTurn;
    }

    const outcome = await this.answer(dc, state, text, n);
    if (outcome === 'ended') return Dialog.EndOfTurn;
    if (outcome === 'submitted') return dc.endDialog({ submitted: true });
    if (outcome === 'stay' || outcome === 'again') {
      await this.ask(dc.context, state, outcome === 'stay');
      return Dialog.EndOfTurn;
    }
    // Advance.
    state.misses = 0;
    state.history.push(state.step);
    state.step = outcome === 'next' ? this.nextStep(state) : outcome.goto;
    await this.ask(dc.context, state);
    return Dialog.EndOfTurn;
  }

  // ------------------------------------------------------------------ steps

  private firstApplicable(state: State, from: StepId): StepId {
    for (let i = ORDER.indexOf(from); i < ORDER.length; i++) if (this.applies(ORDER[i], state)) return ORDER[i];
    return 'review';
  }

  private nextStep(state: State): StepId {
    if (state.editing) {
      // After a correction, go straight back to the summary unless the
      // correction opened a follow-up question (home area, contact details).
      if (state.step === 'residency' && state.draft.subject.residency === 'visiting') return 'homeArea';
      if (state.step === 'contact' && state.wantsContact) return 'contactDetails';
      return 'review';
    }
    return this.firstApplicable(state, ORDER[ORDER.indexOf(state.step) + 1] ?? 'review');
  }

  private applies(step: StepId, state: State): boolean {
    const c = state.draft.concernType;
    switch (step) {
      case 'name':
        return c === 'young_person' || c === 'adult' || c === 'other';
      case 'residency':
        return c !== 'home_takeover';
      case 'homeArea':
        return state.draft.subject.residency === 'visiting';
      case 'relationship':
      case 'knowledge':
        // Someone telling us it is happening to them is not asked how they know, or how they know themselves.
        return c !== 'self';
      case 'contactDetails':
        return state.wantsContact === true;
      default:
        return true;
    }
  }

  /** A button's words: the self-report version (referral.options_self) when there is one. */
  private optionLabel(concern: ConcernType, group: string, value: string): string {
    const selfKey = `referral.options_self.${group}.${value}`;
    return concern === 'self' && this.m.has(selfKey) ? this.m.t(selfKey) : this.m.t(`referral.options.${group}.${value}`);
  }

  private who(state: State): string {
    return this.m.t(`referral.who.${state.draft.concernType}`);
  }

  private skipOption(): Option {
    return { value: 'unknown', title: this.m.t('referral.skip'), synonyms: this.words.skip };
  }

  private options(state: State): Option[] {
    const m = this.m;
    const c = state.draft.concernType;
    const opt = (group: string, v: string): Option => ({ value: v, title: this.optionLabel(c, group, v) });
    switch (state.step) {
      case 'concern':
        return CONCERNS.map((v) => opt('concern', v));
      case 'age':
        return [...AGES.map((v) => opt('age', v)), this.skipOption()];
      case 'residency':
        return [...RESIDENCIES.map((v) => opt('residency', v)), this.skipOption()];
      case 'where':
        return [...this.deps.content.area.towns.slice(0, 6).map((t) => ({ value: t.name, title: t.name })), this.skipOption()];
      case 'when':
        return [...WHENS.map((v) => ({ ...opt('when', v), synonyms: this.words.when[v] })), this.skipOption()];
      case 'signs': {
        const picked = new Set(state.draft.indicators.map((i) => i.code));
        const offered = this.deps.domain
          .choices(c)
          .filter((d) => !picked.has(d.code))
          .map((d) => ({ value: d.code, title: this.deps.domain.label(d.code, c) }));
        return [...offered, { value: DONE, title: m.t(picked.size ? 'referral.signs_done' : 'referral.signs_none'), synonyms: this.words.signs_done }];
      }
      case 'relationship':
        return [...RELATIONSHIPS.map((v) => opt('relationship', v)), this.skipOption()];
      case 'knowledge':
        return [...KNOWLEDGE.map((v) => opt('knowledge', v)), this.skipOption()];
      case 'contact':
        return [
          { value: 'no', title: m.t('referral.contact_no'), synonyms: this.words.contact_no },
          { value: 'yes', title: m.t('referral.contact_yes'), synonyms: this.words.contact_yes },
        ];
      case 'review':
        return [
          { value: 'send', title: m.t('referral.send'), synonyms: this.words.send },
          { value: 'edit', title: m.t('referral.change'), synonyms: this.words.change },
          { value: 'restart', title: m.t('referral.start_again') },
        ];
      case 'edit':
        return EDITABLE.filter((s) => this.applies(s, state)).map((s) => ({ value: s, title: m.t(`referral.fields.${s}`) }));
      case 'name':
      case 'homeArea':
      case 'story':
      case 'contactDetails':
        return [this.skipOption()];
      default:
        return [];
    }
  }

  private leaveOptions(): Option[] {
    return [
      { value: 'stay', title: this.m.t('referral.carry_on'), synonyms: this.words.carry_on },
      { value: 'leave', title: this.m.t('referral.leave'), synonyms: this.words.leave },
    ];
  }

  private isCommand(n: string, command: keyof Answers['during_report']): boolean {
    return this.words.during_report[command].includes(n);
  }

  private async ask(context: TurnContext, state: State, retry = false): Promise<void> {
    const m = this.m;
    const vars = { who: this.who(state) };
    if (state.step === 'review') {
      await context.sendActivity(withOptions(`${this.summary(state)}\n\n${m.t('referral.ask.review')}`, this.options(state)));
      return;
    }
    const selfKey = `referral.ask_self.${state.step}`;
    let text = state.draft.concernType === 'self' && m.has(selfKey) ? m.t(selfKey, vars) : m.t(`referral.ask.${state.step}`, vars);
    if (retry) text = `${m.t('referral.retry')}\n\n${text}`;
    const options = this.options(state);
    await context.sendActivity(options.length ? withOptions(text, options) : text);
  }

  /** Apply an answer. Returns how to move on. */
  private async answer(
    dc: DialogContext,
    state: State,
    text: string,
    n: string,
  ): Promise<'next' | 'stay' | 'again' | 'ended' | 'submitted' | { goto: StepId }> {
    const d = state.draft;
    const options = this.options(state);
    const picked = matchOption(text, options);
    const skipped = picked?.value === 'unknown' || (!picked && this.skipOption().synonyms!.includes(n));
    const free = (): string => text.slice(0, MAX_FREE_TEXT);
    // Free text typed at a choice question is never thrown away: after one
    // retry it is kept in the reporter's words and the question is skipped.
    // Whatever is typed at the contact question is never kept in words outside the sealed copy (a web chat
    // transcript shows a placeholder), even when it turns out not to be contact details.
    if (state.step === 'contactDetails') markSensitiveInput(dc.context);
    const { danger, by } = turnInfo(dc.context).safety;
    // A message caught by the danger phrases is not a name, a home town or
    // contact details (a classifier-only alarm may be a false one: keep the answer).
    if (danger && by === 'rule' && (state.step === 'name' || state.step === 'homeArea' || state.step === 'contactDetails')) return 'again';
    const missed = (): 'stay' | 'again' | 'next' => {
      // After 999 guidance, just ask again: the words are already kept with the danger note.
      if (danger) return 'again';
      if (state.misses++ < 1) return 'stay';
      this.addWords(state, free());
      return 'next';
    };

    switch (state.step) {
      case 'concern': {
        if (!picked) return missed();
        d.concernType = picked.value as ConcernType;
        if (d.concernType === 'self') {
          d.reporterRelationship = 'self';
          d.knowledge = 'saw'; // their own account: first-hand
        } else if (d.reporterRelationship === 'self') {
          // Changed from "It's happening to me": ask again who they are and how they know.
          d.reporterRelationship = 'unknown';
          d.knowledge = 'unknown';
        }
        if (d.concernType === 'home_takeover') d.subject.residency = 'lives_here';
        return 'next';
      }
      case 'age': {
        if (skipped) d.subject.ageBand = 'unknown';
        else if (picked) d.subject.ageBand = picked.value as AgeBand;
        else {
          const age = /\b(\d{1,2})\b/.exec(n);
          if (!age) return missed();
          d.subject.ageBand = ageBand(Number(age[1]));
        }
        return 'next';
      }
      case 'name':
        if (!skipped && text) d.subject.name = free().slice(0, 80);
        return 'next';
      case 'residency':
        if (skipped) d.subject.residency = 'unknown';
        else if (picked) d.subject.residency = picked.value as Residency;
        else return missed();
        if (d.subject.residency !== 'visiting') delete d.subject.homeArea;
        return 'next';
      case 'homeArea':
        if (!skipped && text) d.subject.homeArea = free().slice(0, 120);
        return 'next';
      case 'where': {
        d.location = {};
        if (skipped) return 'next';
        if (picked) {
          d.location.town = picked.value;
          return 'next';
        }
        const entities = this.addIntel(state, text);
        d.location = { ...this.deps.domain.findPlace(text, entities), detail: free().slice(0, 300) };
        return 'next';
      }
      case 'when': {
        if (skipped) d.when = 'unknown';
        else if (picked) d.when = picked.value as WhenCode;
        else return missed();
        if (d.when === 'now') {
          // Happening now: 999 first, then carry on with the report.
          await sendDangerGuidance(dc.context, this.deps.content);
        }
        return 'next';
      }
      case 'signs': {
        if (picked?.value === DONE || skipped) return 'next';
        if (picked) {
          d.indicators = this.deps.domain.merge(d.indicators, [{ code: picked.value, source: 'choice' }]);
          return this.options(state).length > 1 ? 'again' : 'next';
        }
        // Typed signs: detect what we can and keep the words.
        this.addWords(state, free());
        return 'next';
      }
      case 'story':
        if (!skipped && text) this.addWords(state, free());
        return 'next';
      case 'relationship':
        if (skipped) d.reporterRelationship = 'unknown';
        else if (picked) d.reporterRelationship = picked.value as Relationship;
        else return missed();
        return 'next';
      case 'knowledge':
        if (skipped) d.knowledge = 'unknown';
        else if (picked) d.knowledge = picked.value as Knowledge;
        else return missed();
        return 'next';
      case 'contact':
        if (!picked) return missed();
        state.wantsContact = picked.value === 'yes';
        if (!state.wantsContact) state.contact = undefined;
        return 'next';
      case 'contactDetails':
        if (skipped || !text) {
          state.wantsContact = false;
          state.contact = undefined;
        } else {
          state.contact = this.deps.referrals.sealPending(free().slice(0, 500));
          await dc.context.sendActivity(this.m.t('referral.contact_saved'));
        }
        return 'next';
      case 'edit': {
        if (!picked) return danger ? 'again' : 'stay';
        state.editing = true;
        return { goto: picked.value as StepId };
      }
      case 'review': {
        if (picked?.value === 'edit') return { goto: 'edit' };
        if (picked?.value === 'restart') {
          const concern = d.concernType === 'self' ? 'self' : undefined;
          Object.assign(state, { draft: newDraft(concern), history: [], misses: 0, editing: false, contact: undefined, wantsContact: undefined });
          state.step = this.firstApplicable(state, concern ? 'age' : 'concern');
          await dc.context.sendActivity(this.m.t('referral.restarted'));
          await this.ask(dc.context, state);
          return 'ended';
        }
        if (picked?.value !== 'send') return danger ? 'again' : 'stay';
        return (await this.submit(dc, state)) ? 'submitted' : 'ended';
      }
      default:
        return 'next';
    }
  }

  /** Keep the reporter's words and pull intelligence out of them. */
  private addWords(state: State, text: string): void {
    if (!text) return;
    const d = state.draft;
    d.narrative = d.narrative ? `${d.narrative}\n\n${text}` : text;
    d.narrative = d.narrative.slice(0, 8000);
    this.addIntel(state, text);
  }

  private addIntel(state: State, text: string): Entities {
    const d = state.draft;
    const found = this.deps.domain.extract(text);
    d.indicators = this.deps.domain.merge(d.indicators, this.deps.domain.detect(text, d.concernType));
    d.entities = mergeEntities(d.entities, found);
    return found;
  }

  private summary(state: State): string {
    const m = this.m;
    const d = state.draft;
    const label = (group: string, v: string): string => (v === 'unknown' ? m.t('referral.unknown') : this.optionLabel(d.concernType, group, v));
    const lines = [
      m.t('referral.summary_title'),
      `- ${m.t('referral.fields.concern')}: ${label('concern', d.concernType)}`,
      `- ${m.t('referral.fields.age')}: ${label('age', d.subject.ageBand)}`,
    ];
    if (d.subject.name) lines.push(`- ${m.t('referral.fields.name')}: ${d.subject.name}`);
    if (d.concernType !== 'home_takeover') {
      lines.push(
        `- ${m.t('referral.fields.residency')}: ${label('residency', d.subject.residency)}${d.subject.homeArea ? ` (${d.subject.homeArea})` : ''}`,
      );
    }
    const where = [d.location.town, d.location.postcodeDistrict].filter(Boolean).join(', ') || d.location.detail || m.t('referral.unknown');
    lines.push(`- ${m.t('referral.fields.where')}: ${where}`);
    lines.push(`- ${m.t('referral.fields.when')}: ${label('when', d.when)}`);
    if (d.indicators.length) lines.push(`- ${m.t('referral.fields.signs')}: ${d.indicators.map((i) => this.deps.domain.label(i.code, d.concernType)).join('; ')}`);
    if (d.narrative) lines.push(`- ${m.t('referral.fields.story')}: "${d.narrative.length > 200 ? `${d.narrative.slice(0, 200)}…` : d.narrative}"`);
    if (d.concernType !== 'self') {
      lines.push(`- ${m.t('referral.fields.relationship')}: ${label('relationship', d.reporterRelationship)}`);
      lines.push(`- ${m.t('referral.fields.knowledge')}: ${label('knowledge', d.knowledge)}`);
    }
    lines.push(`- ${m.t('referral.fields.contact')}: ${state.contact ? m.t('referral.contact_given') : m.t('referral.contact_none')}`);
    return lines.join('\n');
  }

  private async submit(dc: DialogContext, state: State): Promise<boolean> {
    const ctx = dc.context;
    const safety = await this.deps.safety.get(ctx, emptySafety());
    // The conversation's safety state is the record of danger (a draft starts without any).
    const dangerReportedBy = dangerSource(safety);
    const draft: ReferralDraft = { ...state.draft, dangerReported: state.draft.dangerReported || dangerReportedBy !== undefined, dangerReportedBy };
    if (safety.notes.length) {
      const notes = safety.notes.filter((n) => !draft.narrative.includes(n));
      if (notes.length) {
        const said = `${this.m.t('referral.danger_notes')}\n${notes.join('\n')}`;
        draft.narrative = draft.narrative ? `${draft.narrative}\n\n${said}` : said;
        for (const n of notes) {
          draft.indicators = this.deps.domain.merge(draft.indicators, this.deps.domain.detect(n, draft.concernType));
          draft.entities = mergeEntities(draft.entities, this.deps.domain.extract(n));
        }
      }
    }
    const assessment = this.deps.domain.assess(draft);
    let reference: string;
    try {
      ({ reference } = await this.deps.referrals.create({
        draft,
        assessment,
        channel: ctx.activity.channelId ?? 'unknown',
        contact: state.wantsContact && state.contact ? state.contact : undefined,
        submissionKey: state.submissionKey,
      }));
    } catch (err) {
      // Nothing was stored, so no reference is given; the draft stays for a retry.
      this.deps.logger.error({ err: loggableError(err) }, 'referral commit failed');
      await ctx.sendActivity(withOptions(this.m.t('referral.save_failed'), this.options(state)));
      return false;
    }
    await this.deps.safety.set(ctx, emptySafety());
    await ctx.sendActivity(this.m.t('referral.saved', { reference }));
    await ctx.sendActivity(this.m.t(assessment.urgency === 'immediate' ? 'referral.next_steps_urgent' : 'referral.next_steps'));
    return true;
  }
}

export function ageBand(age: number): AgeBand {
  if (age < 13) return 'under_13';
  if (age < 16) return '13_15';
  if (age < 18) return '16_17';
  if (age < 25) return '18_24';
  return '25_plus';
}
