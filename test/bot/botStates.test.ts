// SpeakSafe's ConversationState/UserState (bot/storage/botStates.ts) detect
// changes as botbuilder's do: a turn that changes nothing writes nothing; any
// change, however deep, is written; state survives to the next turn.
import { ActivityTypes, MemoryStorage, TestAdapter, TurnContext, type StoreItems } from 'botbuilder';
import { loadTogether, SpeakSafeConversationState, SpeakSafeUserState } from '../../bot/storage/botStates';

class CountingStorage extends MemoryStorage {
  reads: string[][] = [];
  writes: StoreItems[] = [];
  override async read(keys: string[]): Promise<StoreItems> {
    this.reads.push([...keys]);
    return super.read(keys);
  }
  override async write(changes: StoreItems): Promise<void> {
    this.writes.push(JSON.parse(JSON.stringify(changes)));
    return super.write(changes);
  }
}

const context = (adapter: TestAdapter, conversation = 'c1') =>
  new TurnContext(adapter, {
    type: ActivityTypes.Message,
    channelId: 'test',
    conversation: { id: conversation, isGroup: false, conversationType: 'personal', name: '' },
    from: { id: 'u1', name: '' },
    recipient: { id: 'bot', name: '' },
    text: 'hi',
  });

describe.each([
  ['conversation state', SpeakSafeConversationState],
  ['user state', SpeakSafeUserState],
])('%s', (_name, State) => {
  test('writes only when something changed, at any depth, and reads back what was written', async () => {
    const storage = new CountingStorage();
    const state = new State(storage);
    const prop = state.createProperty<{ steps: Array<{ n: number }> }>('p');
    const adapter = new TestAdapter();

    // Turn 1: a new value is written.
    let ctx = context(adapter);
    (await prop.get(ctx, { steps: [{ n: 1 }] }))!.steps.push({ n: 2 });
    await state.saveChanges(ctx);
    expect(storage.writes).toHaveLength(1);

    // Turn 2: read but unchanged: nothing written.
    ctx = context(adapter);
    expect(await prop.get(ctx)).toEqual({ steps: [{ n: 1 }, { n: 2 }] });
    await state.saveChanges(ctx);
    expect(storage.writes).toHaveLength(1);

    // Turn 3: a change deep inside is noticed.
    ctx = context(adapter);
    (await prop.get(ctx))!.steps[1].n = 3;
    await state.saveChanges(ctx);
    expect(storage.writes).toHaveLength(2);
    // Saving again in the same turn, with no further change, writes nothing.
    await state.saveChanges(ctx);
    expect(storage.writes).toHaveLength(2);

    // force writes regardless; clear() then save empties it.
    await state.saveChanges(ctx, true);
    expect(storage.writes).toHaveLength(3);
    ctx = context(adapter);
    await state.clear(ctx);
    await state.saveChanges(ctx);
    expect(storage.writes).toHaveLength(4);
    ctx = context(adapter);
    expect(await prop.get(ctx)).toBeUndefined();
  });
});

describe('loadTogether', () => {
  test('one read fetches both states; each then reads and changes as if it had loaded itself', async () => {
    const storage = new CountingStorage();
    const conversation = new SpeakSafeConversationState(storage);
    const user = new SpeakSafeUserState(storage);
    const topic = conversation.createProperty<string>('topic');
    const audience = user.createProperty<string>('audience');
    const adapter = new TestAdapter();

    let ctx = context(adapter);
    await topic.set(ctx, 'cuckooing');
    await audience.set(ctx, 'parent_carer');
    await Promise.all([conversation.saveChanges(ctx), user.saveChanges(ctx)]);
    storage.reads = [];
    storage.writes = [];

    ctx = context(adapter);
    await loadTogether(ctx, [conversation, user]);
    expect(storage.reads).toEqual([['test/conversations/c1/', 'test/users/u1/']]);
    expect(await topic.get(ctx)).toBe('cuckooing');
    expect(await audience.get(ctx)).toBe('parent_carer');
    expect(storage.reads).toHaveLength(1);
    // Unchanged: nothing written. Changed: written.
    await Promise.all([conversation.saveChanges(ctx), user.saveChanges(ctx)]);
    expect(storage.writes).toHaveLength(0);
    await audience.set(ctx, 'neighbour_resident');
    await Promise.all([conversation.saveChanges(ctx), user.saveChanges(ctx)]);
    expect(storage.writes.map((w) => Object.keys(w))).toEqual([['test/users/u1/']]);
    // Already loaded this turn: not read again, and not replaced.
    await loadTogether(ctx, [conversation, user]);
    expect(storage.reads).toHaveLength(1);
    expect(await audience.get(ctx)).toBe('neighbour_resident');
  });

  test('refuses states kept in different storages', async () => {
    const ctx = context(new TestAdapter());
    await expect(loadTogether(ctx, [new SpeakSafeConversationState(new MemoryStorage()), new SpeakSafeUserState(new MemoryStorage())])).rejects.toThrow(
      /different storages/,
    );
  });
});
