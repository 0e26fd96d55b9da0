// What fired the safety check, as a referral records it (dialogs/turn.ts). States saved before the
// phrase matches were counted have no `byPhrase`: every danger in them reads as a phrase match, the
// stricter reading, so an old conversation's report is never weighed as classifier-only.
import { dangerSource, emptySafety, type SafetyState } from '../../dialogs/turn';

test('no danger, a phrase, only the classifier', () => {
  expect(dangerSource(emptySafety())).toBeUndefined();
  expect(dangerSource({ count: 2, byPhrase: 1, notes: [] })).toBe('phrase');
  expect(dangerSource({ count: 2, byPhrase: 0, notes: [] })).toBe('classifier');
});

test('a state saved before phrase matches were counted reads as a phrase match', () => {
  const old = { count: 1, notes: ['they said they would hurt him'] } as SafetyState;
  expect(dangerSource(old)).toBe('phrase');
});
