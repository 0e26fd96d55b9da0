// Choices offered as buttons (suggested actions). Channels render them: Web
// Chat as buttons, SMS as a numbered list. A reply matches a choice by its
// number, its words, or one of its synonyms.
import { ActionTypes, type Activity, type CardAction, MessageFactory } from 'botbuilder';

export interface Option {
  value: string;
  title: string;
  synonyms?: string[];
}

export function normalise(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9\s]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Every word list (e.g. content/answers.yml) in the form replies are compared in. */
export function normaliseWords<T extends object>(lists: T): T {
  return Object.fromEntries(
    Object.entries(lists).map(([k, v]) => [k, Array.isArray(v) ? [...new Set(v.map((w) => normalise(String(w))))] : normaliseWords(v as object)]),
  ) as T;
}

/** The option a reply picks, or undefined. Numbers are 1-based, as shown on SMS. */
export function matchOption(text: string | undefined, options: Option[]): Option | undefined {
  if (!text) return undefined;
  const n = normalise(text);
  if (!n) return undefined;
  const num = /^(?:option |number |no )?(\d{1,2})$/.exec(n);
  if (num) return options[Number(num[1]) - 1];
  for (const o of options) {
    if (normalise(o.title) === n || normalise(o.value) === n) return o;
  }
  for (const o of options) {
    if ((o.synonyms ?? []).some((s) => normalise(s) === n)) return o;
  }
  // A reply that contains one option's whole title (and no other's) picks it.
  const containing = options.filter((o) => {
    const t = normalise(o.title);
    return t.length > 2 && ` ${n} `.includes(` ${t} `);
  });
  return containing.length === 1 ? containing[0] : undefined;
}

export function withOptions(text: string, options: Option[]): Partial<Activity> {
  const actions: CardAction[] = options.map((o) => ({ type: ActionTypes.ImBack, title: o.title, value: o.title }));
  const activity = MessageFactory.suggestedActions(actions, text);
  activity.inputHint = 'expectingInput';
  return activity;
}
