// One dialog for every menu: it shows a prompt with options (buttons on web
// chat, a numbered list on SMS) and ends with the Route of the option picked.
// A typed question that is clearly about something else leaves the menu for it.
import type { DialogContext, DialogInstance, DialogTurnResult } from 'botbuilder-dialogs';
import { Dialog } from './framework';
import type { Content } from '../bot/content';
import { matchOption, withOptions, type Option } from './choices';
import { isRoutable, routeFromTurn, type Route } from './routes';
import { turnInfo } from './turn';

export interface RouteOption extends Option {
  route: Route;
}

export interface ChooseOptions {
  prompt: string;
  options: RouteOption[];
}

interface ChooseState extends ChooseOptions {
  misses: number;
}

export interface ChooseResult {
  next?: Route;
}

export const CHOOSE_DIALOG = 'choose';

export class ChooseDialog extends Dialog<ChooseOptions> {
  constructor(private readonly content: Content) {
    super(CHOOSE_DIALOG);
  }

  override async beginDialog(dc: DialogContext, options?: ChooseOptions): Promise<DialogTurnResult> {
    if (!options?.options.length) return dc.endDialog({ next: { kind: 'menu' } } satisfies ChooseResult);
    const state: ChooseState = { ...options, misses: 0 };
    dc.activeDialog!.state.choose = state;
    await dc.context.sendActivity(withOptions(options.prompt, options.options));
    return Dialog.EndOfTurn;
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const state = dc.activeDialog!.state.choose as ChooseState;
    const info = turnInfo(dc.context);
    const picked = matchOption(info.text, state.options) as RouteOption | undefined;
    if (picked) return dc.endDialog({ next: picked.route } satisfies ChooseResult);
    const route = routeFromTurn(info);
    if (route.kind === 'addendum' || isRoutable(info.nlu?.intent)) return dc.endDialog({ next: route } satisfies ChooseResult);
    state.misses += 1;
    const m = this.content.messages;
    const text = state.misses > 1 ? m.t('fallback') : m.t('reprompt_choice');
    await dc.context.sendActivity(withOptions(text, state.options));
    return Dialog.EndOfTurn;
  }

  override async repromptDialog(context: DialogContext['context'], instance: DialogInstance): Promise<void> {
    const state = instance.state.choose as ChooseState;
    await context.sendActivity(withOptions(state.prompt, state.options));
  }
}
