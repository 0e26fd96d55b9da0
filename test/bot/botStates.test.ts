// SpeakSafe's ConversationState/UserState (bot/storage/botStates.ts) detect
// changes as botbuilder's do: a turn that changes nothing writes nothing; any
// change, however deep, is written; state survives to the next turn.
import { ActivityTypes, MemoryStorage, TestAdapter, TurnContext, type StoreItems } from 'botbuilder';
import { SpeakSafeConversationState, SpeakSafeUserState } from '../../bot/storage/botStates';

class CountingStorage extends MemoryStorage {
  writes: StoreItems[] = [];
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
