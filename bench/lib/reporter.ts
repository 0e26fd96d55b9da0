// The benchmark's scripted reporter: from the main menu into a report, then the
// same answers as the channel tests' reporter (test/helpers/scripted.ts).
import type { Messages } from '../../bot/content';
import { reporterAnswer as referralAnswer, type Answer } from '../../test/helpers/scripted';

export type { Answer };

export function reporterAnswer(m: Messages, text: string, options: string[], townName: string): Answer {
  if (options.includes(m.t('audience.parent_carer'))) return { pick: m.t('audience.parent_carer') };
  if (options.includes(m.t('menu.report'))) return { pick: m.t('menu.report') };
  return referralAnswer(m, text, options, townName);
}
