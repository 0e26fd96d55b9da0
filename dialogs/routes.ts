// Where the conversation can go next. Menus and intents both produce a Route;
// MainDialog turns a Route into the next dialog or message.
import type { Audience } from '../bot/content';
import type { IntentName } from '../bot/nlu/nlu';
import type { ConcernType } from '../bot/referrals/types';
import { normaliseReference } from '../bot/referrals/referenceCode';
import type { TurnInfo } from './turn';

export type Route =
  | { kind: 'welcome' }
  | { kind: 'menu' }
  | { kind: 'audience'; then?: Route }
  | { kind: 'setAudience'; audience: Audience; then?: Route }
  | { kind: 'topicMenu' }
  | { kind: 'topic'; topic: string }
  | { kind: 'report'; concern?: ConcernType }
  | { kind: 'helpSelf' }
  | { kind: 'addendum'; reference?: string }
  | { kind: 'goodbye' }
  | { kind: 'fallback' }
  | { kind: 'danger' };

/** The route for a classified intent. `none` and unknown intents fall back to the menu. */
export function routeForIntent(intent: IntentName | undefined): Route {
  switch (intent) {
    case 'danger.immediate':
      return { kind: 'danger' };
    case 'report.concern':
      return { kind: 'report' };
    case 'help.self':
      return { kind: 'helpSelf' };
    case 'learn.county_lines':
      return { kind: 'topic', topic: 'county_lines' };
    case 'learn.cuckooing':
      return { kind: 'topic', topic: 'cuckooing' };
    case 'learn.signs_young_person':
      return { kind: 'topic', topic: 'signs_young_person' };
    case 'learn.signs_property':
      return { kind: 'topic', topic: 'signs_property' };
    case 'info.anonymity':
      return { kind: 'topic', topic: 'anonymity' };
    case 'info.next_steps':
      return { kind: 'topic', topic: 'next_steps' };
    case 'support.services':
      return { kind: 'topic', topic: 'get_help' };
    case 'nav.greeting':
      return { kind: 'welcome' };
    case 'nav.menu':
      return { kind: 'menu' };
    case 'nav.goodbye':
      return { kind: 'goodbye' };
    default:
      return { kind: 'fallback' };
  }
}

/** True for intents strong enough to leave a menu the user typed past. */
export function isRoutable(intent: IntentName | undefined): boolean {
  return !!intent && intent !== 'none' && intent !== 'nav.greeting';
}

/** A reference code typed anywhere in a message (e.g. "my ref is K7MW-2QX3"). */
export function findReference(text: string): string | undefined {
  for (const m of text.toUpperCase().matchAll(/\b([A-Z2-9]{4})[\s-]?([A-Z2-9]{4})\b/g)) {
    const candidate = `${m[1]}-${m[2]}`;
    // Plain words are not codes: a code has a digit or was typed with its hyphen.
    if (!/[2-9]/.test(candidate) && !m[0].includes('-')) continue;
    const ref = normaliseReference(candidate);
    if (ref) return ref;
  }
  return undefined;
}

/** Where a message leads when no dialog is waiting for it. */
export function routeFromTurn(info: TurnInfo): Route {
  if (info.safety.danger) return { kind: 'danger' };
  const reference = findReference(info.text);
  if (reference) return { kind: 'addendum', reference };
  return routeForIntent(info.nlu?.intent);
}
