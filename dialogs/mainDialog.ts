// The root of every conversation. It turns intents and menu picks into
// Routes, and it holds the safety net: a message that signals immediate
// danger gets 999 guidance first, from inside any dialog, and then the
// conversation carries on where it was.
import type { StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { DialogContext, DialogState, DialogTurnResult } from 'botbuilder-dialogs';
import { ComponentDialog, Dialog, DialogReason, DialogSet, DialogTurnStatus } from './framework';
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

interface FlowOptions {
  route?: Route;
}

interface FlowState {
  options: FlowOptions;
  values: Record<string, unknown>;
  stepIndex: number;
}

/**
 * The main flow, two steps: dispatch a route (which usually starts a menu or a
 * report), then take the route the menu ended with and start again.
 *
 * Written as a plain Dialog rather than botbuilder's WaterfallDialog, which
 * makes a step context (a DialogContext with its own memory manager), a UUID and
 * telemetry events on every step: about a tenth of a menu turn's CPU. Its state
 * keeps WaterfallDialog's layout ({ options, values, stepIndex }), so
 * conversations saved by the waterfall carry on unchanged.
 */
class FlowDialog extends Dialog<FlowOptions> {
  constructor(
    private readonly first: (dc: DialogContext, options: FlowOptions) => Promise<DialogTurnResult>,
    private readonly second: (dc: DialogContext, result: unknown) => Promise<DialogTurnResult>,
  ) {
    super(FLOW);
  }

  // WaterfallDialog's version for two steps: MainDialog's stored version hash
  // stays the same, so saved conversations raise no "version changed" event.
  override getVersion(): string {
    return `${this.id}:2`;
  }

  override beginDialog(dc: DialogContext, options?: FlowOptions): Promise<DialogTurnResult> {
    const state = dc.activeDialog!.state as FlowState;
    state.options = options ?? {};
    state.values = {};
    state.stepIndex = 0;
    return this.first(dc, state.options);
  }

  // As WaterfallDialog: a message with nothing above the flow resumes it with the text.
  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    if (dc.context.activity.type !== 'message') return Dialog.EndOfTurn;
    return this.resumeDialog(dc, DialogReason.continueCalled, dc.context.activity.text);
  }

  override resumeDialog(dc: DialogContext, _reason: DialogReason, result?: unknown): Promise<DialogTurnResult> {
    const state = dc.activeDialog!.state as FlowState;
    state.stepIndex = (state.stepIndex ?? 0) + 1;
    return state.stepIndex === 1 ? this.second(dc, result) : dc.endDialog(result);
  }
}

const MAX_ROUTE_HOPS = 8;

export class MainDialog extends ComponentDialog {
  constructor(private readonly deps: MainDialogDeps) {
    super('main');
    this.addDialog(new FlowDialog((dc, options) => this.dispatch(dc, options), (dc, result) => this.after(dc, result)))
      .addDialog(new ChooseDialog(deps.content))
      .addDialog(new ReferralDialog(deps))
      .addDialog(new AddendumDialog(deps));
    this.initialDialogId = FLOW;
  }

  /** Run one turn: continue the active dialog, or start from the message's route. */
  async run(context: TurnContext, accessor: StatePropertyAccessor<DialogState>, route?: Route): Promise<void> {
    const dc = await this.rootSet(accessor).createContext(context);
    if (route) {
      await dc.cancelAllDialogs();
      await dc.beginDialog(this.id, { route });
      return;
    }
    const result = await dc.continueDialog();
    if (result.status === DialogTurnStatus.empty) await dc.beginDialog(this.id);
  }

  // A DialogSet holds only the dialogs and the state accessor, nothing of a
  // turn: one per accessor serves every turn.
  private readonly rootSets = new WeakMap<StatePropertyAccessor<DialogState>, DialogSet>();

  private rootSet(accessor: StatePropertyAccessor<DialogState>): DialogSet {
    let set = this.rootSets.get(accessor);
    if (!set) {
      set = new DialogSet(accessor).add(this);
      this.rootSets.set(accessor, set);
    }
    return set;
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
    safety.byPhrase = (safety.byPhrase ?? safety.count) + (turnInfo(context).safety.by === 'rule' ? 1 : 0);
    safety.count += 1;
    if (text) safety.notes = [...safety.notes, text.slice(0, 1000)].slice(-5);
    await this.deps.safety.set(context, safety);
  }

  private async dispatch(dc: DialogContext, options: FlowOptions): Promise<DialogTurnResult> {
    const ctx = dc.context;
    const m = this.deps.content.messages;
    let route: Route = options.route ?? routeFromTurn(turnInfo(ctx));
    // Read without a default: a default would be stored, writing an empty profile for every new person.
    const profile: Profile = (await this.deps.profile.get(ctx)) ?? {};
    for (let hop = 0; hop < MAX_ROUTE_HOPS; hop++) {
      switch (route.kind) {
        case 'danger':
          await this.recordDanger(ctx, turnInfo(ctx).text);
          await sendDangerGuidance(ctx, this.deps.content);
          return this.choose(dc, m.t('danger_next'), [
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
            dc,
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
          return this.choose(dc, m.t('main_menu'), this.mainMenu(profile));
        case 'fallback':
          return this.choose(dc, m.t('fallback'), this.mainMenu(profile));
        case 'topicMenu': {
          if (!profile.audience) {
            route = { kind: 'audience', then: route };
            continue;
          }
          const topics = this.deps.content.topicMenu(profile.audience);
          return this.choose(dc, m.t('topic_menu'), [
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
          return this.choose(dc, m.t('after_topic'), [
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
          return this.choose(dc, m.t('help_self_offer'), [
            this.opt(m.t('yes'), { kind: 'report', concern: 'self' }),
            this.opt(m.t('menu.get_help'), { kind: 'topic', topic: 'get_help' }),
            this.opt(m.t('not_now'), { kind: 'menu' }),
          ]);
        }
        case 'report':
          return dc.beginDialog(REFERRAL_DIALOG, { concern: route.concern });
        case 'addendum':
          return dc.beginDialog(ADDENDUM_DIALOG, { reference: route.reference });
        case 'goodbye':
          await ctx.sendActivity(m.t('goodbye'));
          return dc.endDialog();
      }
    }
    return this.choose(dc, m.t('main_menu'), this.mainMenu(profile));
  }

  private async after(dc: DialogContext, result: unknown): Promise<DialogTurnResult> {
    const next = (result as { next?: Route } | undefined)?.next;
    if (next) return dc.replaceDialog(FLOW, { route: next });
    return dc.endDialog();
  }

  private choose(dc: DialogContext, prompt: string, options: RouteOption[]): Promise<DialogTurnResult> {
    return dc.beginDialog(CHOOSE_DIALOG, { prompt, options } satisfies ChooseOptions);
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
