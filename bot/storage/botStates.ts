// ConversationState and UserState with cheaper change detection.
//
// botbuilder's BotState decides whether to save by hashing its state: a
// replacer-based stringify plus SHA-256, on load, on save and again after the
// write, for each state on every turn (about 8% of an SMS turn's CPU). These
// subclasses keep BotState's behaviour and its turn-cache entry ({ state,
// hash }) but use the state's plain JSON text as the "hash": the same
// decision, with one fast JSON.stringify per step and no digest.
import { ConversationState, UserState, type BotState, type TurnContext } from 'botbuilder';

interface CachedState {
  state: Record<string, unknown>;
  hash: string;
}

/** The state as JSON, without its eTag: what decides whether it changed. */
function snapshot(state: Record<string, unknown>): string {
  const { eTag: _eTag, ...rest } = state;
  return JSON.stringify(rest);
}

interface Internals {
  /** BotState's own key for its turn-cache entry (private in botbuilder's typings). */
  stateKey: symbol;
  storage: BotState['storage'];
  storageKey: BotState['storageKey'];
}

/** Keeps a state just read as this turn's copy, with the snapshot that later decides whether it changed. */
function remember(context: TurnContext, internals: Internals, item: unknown): Record<string, unknown> {
  const state = (item ?? {}) as Record<string, unknown>;
  context.turnState.set(internals.stateKey, { state, hash: snapshot(state) } satisfies CachedState);
  return state;
}

function load(self: BotState, context: TurnContext, force: boolean): Promise<Record<string, unknown>> {
  const internals = self as unknown as Internals;
  const cached = context.turnState.get(internals.stateKey) as CachedState | undefined;
  if (!force && cached?.state) return Promise.resolve(cached.state);
  return Promise.resolve(internals.storageKey(context)).then(async (key) => {
    const items = await internals.storage.read([key]);
    return remember(context, internals, items[key]);
  });
}

/**
 * Reads several states of one turn (conversation and user) in one storage
 * read, and caches each as its own load() would: a turn's later reads are
 * then free. States already loaded this turn are left alone. They must share
 * one storage.
 */
export async function loadTogether(context: TurnContext, states: BotState[]): Promise<void> {
  const pending: Array<{ internals: Internals; key: string }> = [];
  for (const state of states) {
    const internals = state as unknown as Internals;
    if ((context.turnState.get(internals.stateKey) as CachedState | undefined)?.state) continue;
    pending.push({ internals, key: await internals.storageKey(context) });
  }
  if (!pending.length) return;
  const storage = pending[0].internals.storage;
  if (pending.some((p) => p.internals.storage !== storage)) throw new Error('loadTogether: the states use different storages');
  const items = await storage.read(pending.map((p) => p.key));
  for (const { internals, key } of pending) remember(context, internals, items[key]);
}

async function saveChanges(self: BotState, context: TurnContext, force: boolean): Promise<void> {
  const internals = self as unknown as Internals;
  let cached = context.turnState.get(internals.stateKey) as CachedState | undefined;
  const now = cached ? snapshot(cached.state) : undefined;
  if (!force && !(cached && cached.hash !== now)) return;
  const key = await internals.storageKey(context);
  cached ??= { state: {}, hash: '' };
  // As BotState does: the last writer wins (turns of one conversation are serialised by the bot).
  cached.state.eTag = '*';
  await internals.storage.write({ [key]: cached.state });
  // What was written (the state cannot change while this turn waits for its own write).
  cached.hash = now ?? snapshot(cached.state);
  context.turnState.set(internals.stateKey, cached);
}

export class SpeakSafeConversationState extends ConversationState {
  override load(context: TurnContext, force = false): Promise<any> {
    return load(this, context, force);
  }
  override saveChanges(context: TurnContext, force = false): Promise<void> {
    return saveChanges(this, context, force);
  }
}

export class SpeakSafeUserState extends UserState {
  override load(context: TurnContext, force = false): Promise<any> {
    return load(this, context, force);
  }
  override saveChanges(context: TurnContext, force = false): Promise<void> {
    return saveChanges(this, context, force);
  }
}
