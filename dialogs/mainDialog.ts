// The root of every conversation. It turns intents and menu picks into
// Routes, and it holds the safety net: a message that signals immediate
// danger gets 999 guidance first, from inside any dialog, and then the
// conversation carries on where it was.
import type { StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { DialogContext, DialogState, DialogTurnResult, WaterfallStepContext } from 'botbuilder-dialogs';
import { ComponentDialog, Dialog, DialogSet, DialogTurnStatus, WaterfallDialog } from './framework';
import { AUDIENCES, type Audience, type Content } from '../bot/content';
import { AddendumDialog, ADDENDUM_DIALOG } from './addendumDialog';
import { ChooseDialog, CHOOSE_DIALOG, type ChooseOptions, type RouteOption } from './chooseDialog';
import { ReferralDialog, REFERRAL_DIALOG, type ReferralDialogDeps } from './referralDialog';
import { routeFromTurn, type Route } from './routes';
import { sendDangerGuidance } from './safety';
import { emptySafety, turnInfo, type SafetyState } from './turn';

export interface Profile {
  audience?: Audience;
}

export interface MainDialogDeps extends ReferralDialogDeps {
  content: Content;
  profile: StatePropertyAccessor<Profile>;
  safety: StatePropertyAccessor<SafetyState>;
}

const FLOW = 'main.flow';
const MAX_ROUTE_HOPS = 8;

export class MainDialog extends ComponentDialog {
  constructor(private readonly deps: MainDialogDeps) {
    super('main');
    this.addDialog(new WaterfallDialog(FLOW, [this.dispatch.bind(this), this.after.bind(this)]))
      .addDialog(new ChooseDialog(deps.content))
      .addDialog(new ReferralDialog(deps))
      .addDialog(new AddendumDialog(deps));
    this.initialDialogId = FLOW;
  }

  /** Run one turn: continue the active dialog, or start from the message's route. */
  async run(context: TurnContext, accessor: StatePropertyAccessor<DialogState>, route?: Route): Promise<void> {
    const set = new DialogSet(accessor);
    set.add(this);
    const dc = await set.createContext(context);
    if (route) {
      await dc.cancelAllDialogs();
      await dc.beginDialog(this.id, { route });
      return;
    }
    const result = await dc.continueDialog();
    if (result.status === DialogTurnStatus.empty) await dc.beginDialog(this.id);
  }

  // The safety net, checked before any active dialog sees the message.
  protected override async onContinueDialog(innerDc: DialogContext): Promise<DialogTurnResult> {
    const info = turnInfo(innerDc.context);
    if (info.safety.danger) {
      // Contact details stay sealed: never copied into the danger notes.
      const step = (innerDc.activeDialog?.state?.referral as { step?: string } | undefined)?.step;
      if (step !== 'contactDetails') await this.recordDanger(innerDc.context, info.text);
      await sendDangerGuidance(innerDc.context, this.deps.content);
      await innerDc.context.sendActivity(this.deps.content.messages.t('danger_resume'));
      // A report in progress reads the message as its answer (nothing typed is
      // lost); a menu simply asks its question again.
      const active = innerDc.activeDialog?.id;
      if (active === REFERRAL_DIALOG || active === ADDENDUM_DIALOG) return super.onContinueDialog(innerDc);
      await innerDc.repromptDialog();
      return Dialog.EndOfTurn;
    }
    return super.onContinueDialog(innerDc);
  }

  private async recordDanger(context: TurnContext, text: string): Promise<void> {
    const safety = await this.deps.safety.get(context, emptySafety());
    safety.count += 1;
    if (text) safety.notes = [...safety.notes, text.slice(0, 1000)].slice(-5);
    await this.deps.safety.set(context, safety);
  }

  private async dispatch(step: WaterfallStepContext<{ route?: Route }>): Promise<DialogTurnResult> {
    const ctx = step.context;
    const m = this.deps.content.messages;
    let route: Route = step.options?.route ?? routeFromTurn(turnInfo(ctx));
    // Read without a default: a default would be stored, writing an empty profile for every new person.
    const profile: Profile = (await this.deps.profile.get(ctx)) ?? {};
    for (let hop = 0; hop < MAX_ROUTE_HOPS; hop++) {
      switch (route.kind) {
        case 'danger':
          await this.recordDanger(ctx, turnInfo(ctx).text);
          await sendDangerGuidance(ctx, this.deps.content);
          return this.choose(step, m.t('danger_next'), [
            this.opt(m.t('menu.report'), { kind: 'report' }),
            this.opt(m.t('menu.get_help'), { kind: 'topic', topic: 'get_help' }),
            this.opt(m.t('menu.main_menu'), { kind: 'menu' }),
          ]);
        case 'welcome':
          await ctx.sendActivity(m.t('welcome'));
          route = profile.audience ? { kind: 'menu' } : { kind: 'audience', then: { kind: 'topicMenu' } };
          continue;
        case 'audience':
          return this.choose(
            step,
            m.t('ask_audience'),
            AUDIENCES.map((a) =>
              this.opt(m.t(`audience.${a}`), { kind: 'setAudience', audience: a, then: route.kind === 'audience' ? route.then : undefined }),
            ),
          );
        case 'setAudience':
          profile.audience = route.audience;
          await this.deps.profile.set(ctx, profile);
          route = route.then ?? { kind: 'topicMenu' };
          continue;
        case 'menu':
          return this.choose(step, m.t('main_menu'), this.mainMenu(profile));
        case 'fallback':
          return this.choose(step, m.t('fallback'), this.mainMenu(profile));
        case 'topicMenu': {
          if (!profile.audience) {
            route = { kind: 'audience', then: route };
            continue;
          }
          const topics = this.deps.content.topicMenu(profile.audience);
          return this.choose(step, m.t('topic_menu'), [
            ...topics.map((t) => this.opt(t.title, { kind: 'topic', topic: t.topic })),
            this.opt(m.t('menu.report'), { kind: 'report' }),
            this.opt(m.t('menu.main_menu'), { kind: 'menu' }),
          ]);
        }
        case 'topic': {
          if (!profile.audience) {
            route = { kind: 'audience', then: route };
            continue;
          }
          const topic = this.deps.content.topicFor(route.topic, profile.audience);
          if (!topic) {
            route = { kind: 'topicMenu' };
            continue;
          }
          await ctx.sendActivity(`**${topic.title}**\n\n${topic.body}`);
          const menu = this.deps.content.topicMenu(profile.audience);
          const at = menu.findIndex((t) => t.topic === topic.topic);
          const following = [...menu.slice(at + 1), ...menu.slice(0, Math.max(at, 0))].slice(0, 2);
          return this.choose(step, m.t('after_topic'), [
            ...following.map((t) => this.opt(t.title, { kind: 'topic', topic: t.topic })),
            this.opt(m.t('menu.report'), { kind: 'report' }),
            this.opt(m.t('menu.topics'), { kind: 'topicMenu' }),
            this.opt(m.t('menu.main_menu'), { kind: 'menu' }),
          ]);
        }
        case 'helpSelf': {
          const audience: Audience = profile.audience === 'young_person' || !profile.audience ? 'young_person' : profile.audience;
          const topic = this.deps.content.topicFor('help_self', audience);
          if (topic) await ctx.sendActivity(topic.body);
          return this.choose(step, m.t('help_self_offer'), [
            this.opt(m.t('yes'), { kind: 'report', concern: 'self' }),
            this.opt(m.t('menu.get_help'), { kind: 'topic', topic: 'get_help' }),
            this.opt(m.t('not_now'), { kind: 'menu' }),
          ]);
        }
        case 'report':
          return step.beginDialog(REFERRAL_DIALOG, { concern: route.concern });
        case 'addendum':
          return step.beginDialog(ADDENDUM_DIALOG, { reference: route.reference });
        case 'goodbye':
          await ctx.sendActivity(m.t('goodbye'));
          return step.endDialog();
      }
    }
    return this.choose(step, m.t('main_menu'), this.mainMenu(profile));
  }

  private async after(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const next = (step.result as { next?: Route } | undefined)?.next;
    if (next) return step.replaceDialog(FLOW, { route: next });
    return step.endDialog();
  }

  private choose(step: WaterfallStepContext, prompt: string, options: RouteOption[]): Promise<DialogTurnResult> {
    return step.beginDialog(CHOOSE_DIALOG, { prompt, options } satisfies ChooseOptions);
  }

  private opt(title: string, route: Route): RouteOption {
    return { title, value: title, route };
  }

  private mainMenu(profile: Profile): RouteOption[] {
    const m = this.deps.content.messages;
    return [
      this.opt(m.t('menu.topics'), { kind: 'topicMenu' }),
      this.opt(m.t('menu.report'), { kind: 'report' }),
      this.opt(m.t('menu.get_help'), { kind: 'topic', topic: 'get_help' }),
      this.opt(m.t('menu.add_to_report'), { kind: 'addendum' }),
      this.opt(m.t('menu.change_audience'), { kind: 'audience', then: profile.audience ? { kind: 'menu' } : { kind: 'topicMenu' } }),
    ];
  }
}
