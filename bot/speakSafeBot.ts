// The bot: for every message it runs the NLU and the safety check once, then
// hands the turn to MainDialog, and saves state at the end of the turn.
// Turns of one conversation run one at a time in this process; the eTag on
// stored state guards against two processes.
import { ActivityTypes, type ConversationState, type Middleware, type StatePropertyAccessor, type TurnContext, type UserState } from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import type { Content } from './content';
import type { NluResult, NluService } from './nlu/nlu';
import { detectDanger, type DangerRules } from './safety/danger';
import { loggableError, type Logger } from './util/logger';
import { KeyedLock } from './util/keyedLock';
import { loadTogether } from './storage/botStates';
import type { MainDialog } from '../dialogs/mainDialog';
import { setTurnInfo, turnInfo } from '../dialogs/turn';
import { sendSafetyFallback } from '../dialogs/safety';

export interface BotDeps {
  content: Content;
  nlu: NluService;
  dangerRules: DangerRules;
  conversationState: ConversationState;
  userState: UserState;
  dialog: MainDialog;
  logger: Logger;
  maxMessageChars: number;
}

/** The turn-state key botbuilder-dialogs' DialogStateManager caches its configuration under. */
const DIALOG_STATE_MANAGER_CONFIGURATION = 'DialogStateManagerConfiguration';

const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/** Message text as the bot reads it: no control characters, bounded length. */
export function cleanText(text: unknown, maxChars: number): string {
  if (typeof text !== 'string') return '';
  return text.replace(CONTROL_CHARS, ' ').slice(0, maxChars).trim();
}

export type AnalyseDeps = Pick<BotDeps, 'content' | 'nlu' | 'dangerRules' | 'logger' | 'maxMessageChars'> & {
  /** Titles of the buttons the bot offered last turn. */
  offered?: string[];
};

/** Classify the message once and run the safety check; dialogs read the result with turnInfo(). */
export async function analyseTurn(context: TurnContext, deps: AnalyseDeps): Promise<void> {
  const text = cleanText(context.activity.text, deps.maxMessageChars);
  // A tapped button is an answer, not a disclosure: the classifier alone never
  // turns one into an alarm (the phrase rules still apply to everything).
  const pressedButton = (deps.offered ?? []).some((o) => o.trim().toLowerCase() === text.toLowerCase());
  let nlu: NluResult | null = null;
  try {
    const command = deps.content.commands.get(text.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, '').replace(/\s+/g, ' ').trim());
    nlu = command ? { intent: command, score: 1 } : text ? await deps.nlu.classify(text, deps.content.locale) : null;
  } catch (err) {
    deps.logger.warn({ err: loggableError(err) }, 'nlu failed; rules alone decide');
  }
  const safety = await detectDanger(text, nlu && !pressedButton ? { classify: async () => nlu! } : null, deps.dangerRules, deps.content.locale);
  setTurnInfo(context, { text, nlu, safety: { danger: safety.danger, by: safety.by, rule: safety.rule, ...(safety.category ? { category: safety.category } : {}) } });
}

/**
 * Analyses every message before the dialogs see it (NLU + safety check), and
 * remembers which buttons the bot offered so a tapped button is never mistaken
 * for a disclosure by the classifier. Used by the bot and by dialog tests.
 */
export class TurnAnalyser implements Middleware {
  private readonly offered: StatePropertyAccessor<string[]>;

  constructor(
    private readonly deps: AnalyseDeps,
    conversationState: ConversationState,
  ) {
    this.offered = conversationState.createProperty<string[]>('offered');
  }

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    if (context.activity.type === 'message') {
      // The safety check must run even when state can't be read (database
      // down): the failed turn's fallback then still leads with 999 guidance.
      let lastOffered: string[] = [];
      try {
        lastOffered = await this.offered.get(context, []);
      } catch (err) {
        this.deps.logger.warn({ err: loggableError(err) }, 'offered buttons unavailable; analysing without them');
      }
      await analyseTurn(context, { ...this.deps, offered: lastOffered });
    }
    let offered: string[] | undefined;
    context.onSendActivities(async (_ctx, activities, nextSend) => {
      for (const a of activities) if (a.type === 'message') offered = (a.suggestedActions?.actions ?? []).map((x) => String(x.title));
      return nextSend();
    });
    await next();
    if (offered) await this.offered.set(context, offered);
  }
}

/**
 * The bot. It handles two kinds of activity: a message, and a conversation
 * update that adds someone (the welcome). Everything else is ignored.
 *
 * It dispatches on the activity type itself rather than extending botbuilder's
 * ActivityHandler: for these two handlers that class runs about fifteen nested
 * async steps a turn, a fifth of the memory a turn allocates (bench/README.md).
 * Turns run through bot.run(context) exactly as for an ActivityHandler.
 */
export class SpeakSafeBot {
  private readonly dialogState: StatePropertyAccessor<DialogState>;
  private readonly analyser: TurnAnalyser;
  private readonly locks = new KeyedLock();

  constructor(private readonly deps: BotDeps) {
    this.dialogState = deps.conversationState.createProperty<DialogState>('dialogState');
    this.analyser = new TurnAnalyser(deps, deps.conversationState);
  }

  private async onActivity(context: TurnContext): Promise<void> {
    const activity = context.activity;
    if (activity.type === ActivityTypes.Message) {
      // The text as analyseTurn cleaned it (it runs first, for every message).
      if (!turnInfo(context).text && activity.attachments?.length) {
        await context.sendActivity(this.deps.content.messages.t('sms_no_pictures'));
        return;
      }
      await this.deps.dialog.run(context, this.dialogState);
    } else if (activity.type === ActivityTypes.ConversationUpdate) {
      const joined = (activity.membersAdded ?? []).some((m) => m.id !== activity.recipient?.id);
      if (joined) await this.deps.dialog.run(context, this.dialogState, { kind: 'welcome' });
    }
  }

  /**
   * botbuilder-dialogs builds its memory-scope configuration afresh on every
   * turn (a service collection, about 5% of a turn) and caches it only in
   * turn state. It holds no per-turn data, so the first turn's is reused.
   */
  private dialogMemoryConfig: unknown;

  /**
   * Both states in one read (a turn needs both). If that read fails, nothing
   * is lost: each state's own read tries again where it is needed, and the
   * safety check runs either way.
   */
  private async prefetchState(context: TurnContext): Promise<void> {
    try {
      await loadTogether(context, [this.deps.conversationState, this.deps.userState]);
    } catch {
      // Reported by the read that needs the state (TurnAnalyser, the dialogs).
    }
  }

  async run(context: TurnContext): Promise<void> {
    const key = `${context.activity.channelId}/${context.activity.conversation?.id}`;
    await this.locks.run(key, async () => {
      try {
        if (this.dialogMemoryConfig) context.turnState.set(DIALOG_STATE_MANAGER_CONFIGURATION, this.dialogMemoryConfig);
        const type = context.activity.type;
        if (type === ActivityTypes.Message || type === ActivityTypes.ConversationUpdate) await this.prefetchState(context);
        await this.analyser.onTurn(context, () => this.onActivity(context));
        this.dialogMemoryConfig ??= context.turnState.get(DIALOG_STATE_MANAGER_CONFIGURATION);
        // Both in the same group commit (bot/db/groupCommit.ts on SQLite).
        await Promise.all([this.deps.conversationState.saveChanges(context), this.deps.userState.saveChanges(context)]);
      } catch (err) {
        this.deps.logger.error({ err: loggableError(err) }, 'turn failed');
        await sendSafetyFallback(context, this.deps.content);
      }
    });
  }
}
