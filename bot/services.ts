// The services one running SpeakSafe shares between its bot, channels and hub.
import type { ConversationState, UserState } from 'botbuilder';
import type { Config } from './config';
import type { Content } from './content';
import type { Db } from './db/prisma';
import type { NluService } from './nlu/nlu';
import type { ReferralStore } from './referrals/repository';
import type { DangerRules } from './safety/danger';
import type { StateStorage } from './storage/stateStorage';
import type { Logger } from './util/logger';
import type { Secrets } from './util/secrets';
import type { BotRunner } from './channels/botRunner';
import type { ReferralDomain } from './referrals/domain';

export interface Services {
  config: Config;
  logger: Logger;
  db: Db;
  secrets: Secrets;
  content: Content;
  nlu: NluService;
  dangerRules: DangerRules;
  storage: StateStorage;
  conversationState: ConversationState;
  userState: UserState;
  referrals: ReferralStore;
  referralDomain: ReferralDomain;
  /** Runs one turn of the bot in process and returns its replies (SMS, Direct Line, chat CLI). */
  runner: BotRunner;
  startedAt: Date;
}
