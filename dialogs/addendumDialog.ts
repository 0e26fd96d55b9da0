// Come back with a reference code and add to a report, on either channel.
// The addition is stored as an addendum to the same referral.
import type { DialogContext, DialogInstance, DialogTurnResult } from 'botbuilder-dialogs';
import { Dialog } from './framework';
import type { TurnContext } from 'botbuilder';
import { normaliseReference } from '../bot/referrals/referenceCode';
import { matchOption, withOptions, type Option } from './choices';
import type { ReferralDialogDeps } from './referralDialog';
import { turnInfo } from './turn';

export const ADDENDUM_DIALOG = 'addendum';

interface State {
  step: 'reference' | 'text';
  reference?: string;
  misses: number;
}

export class AddendumDialog extends Dialog<{ reference?: string }> {
  constructor(private readonly deps: ReferralDialogDeps) {
    super(ADDENDUM_DIALOG);
  }

  private skip(): Option[] {
    return [{ value: 'skip', title: this.deps.content.messages.t('addendum.skip'), synonyms: this.deps.content.answers.addendum_skip }];
  }

  override async beginDialog(dc: DialogContext, options?: { reference?: string }): Promise<DialogTurnResult> {
    const state: State = { step: 'reference', misses: 0 };
    dc.activeDialog!.state.addendum = state;
    if (options?.reference && (await this.deps.referrals.exists(options.reference))) {
      state.reference = options.reference;
      state.step = 'text';
    }
    await this.ask(dc.context, state);
    return Dialog.EndOfTurn;
  }

  override async repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void> {
    await this.ask(context, instance.state.addendum as State);
  }

  private async ask(context: TurnContext, state: State): Promise<void> {
    const m = this.deps.content.messages;
    const text = state.step === 'reference' ? m.t('addendum.ask_reference') : m.t('addendum.ask_text');
    await context.sendActivity(withOptions(text, this.skip()));
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const state = dc.activeDialog!.state.addendum as State;
    const m = this.deps.content.messages;
    const text = turnInfo(dc.context).text.trim();
    if (matchOption(text, this.skip())) {
      await dc.context.sendActivity(m.t('addendum.cancelled'));
      return dc.endDialog({ next: { kind: 'menu' } });
    }
    if (state.step === 'reference') {
      if (turnInfo(dc.context).safety.danger) {
        await this.ask(dc.context, state);
        return Dialog.EndOfTurn;
      }
      const reference = normaliseReference(text);
      if (!reference) {
        await dc.context.sendActivity(withOptions(m.t('addendum.bad_reference'), this.skip()));
        return Dialog.EndOfTurn;
      }
      if (!(await this.deps.referrals.exists(reference))) {
        state.misses += 1;
        await dc.context.sendActivity(m.t('addendum.unknown_reference'));
        if (state.misses >= 2) return dc.endDialog({ next: { kind: 'menu' } });
        await this.ask(dc.context, state);
        return Dialog.EndOfTurn;
      }
      state.reference = reference;
      state.step = 'text';
      await this.ask(dc.context, state);
      return Dialog.EndOfTurn;
    }
    const words = text.slice(0, 4000);
    if (!words) {
      await this.ask(dc.context, state);
      return Dialog.EndOfTurn;
    }
    const { domain } = this.deps;
    await this.deps.referrals.addAddendum(state.reference!, {
      channel: dc.context.activity.channelId ?? 'unknown',
      text: words,
      indicators: domain.detect(words),
      entities: domain.extract(words),
    });
    await dc.context.sendActivity(m.t('addendum.saved', { reference: state.reference }));
    return dc.endDialog({ next: { kind: 'menu' } });
  }
}
