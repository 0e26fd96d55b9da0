// The hub's services, built once from the app's Services.
import crypto from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type nunjucks from 'nunjucks';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { resolveContentDir } from '../bot/content';
import { sourceAddress } from '../bot/channels/http';
import type { Services } from '../bot/services';
import { AuditLogService } from './audit';
import { Sessions } from './auth/sessions';
import { ApiTokens } from './auth/tokens';
import { StaffUsers } from './auth/users';
import { LOGIN_FAILURES_PER_SOURCE, LOGIN_SOURCE_WINDOW_SECONDS } from './constants';
import type { HubRequest, MountedRoute } from './http';
import { hubLabels, IndicatorLabels, loadIndicatorLabels, type HubLabels } from './labels';
import { targetsFrom, type Targets } from './referrals/queue';
import { Workflow } from './referrals/workflow';
import { createRenderer } from './render';

export class Hub {
  readonly audit: AuditLogService;
  readonly users: StaffUsers;
  readonly sessions: Sessions;
  readonly tokens: ApiTokens;
  readonly workflow: Workflow;
  readonly labels: IndicatorLabels;
  /** What staff read for each stored code (content/hub/labels.yml in the service's content folder). */
  readonly L: HubLabels;
  readonly targets: Targets;
  readonly env: nunjucks.Environment;
  readonly routes: MountedRoute[] = [];
  /** Failed sign-ins per network source (keyed by a hash of the address; never stored). */
  readonly loginLimiter = new RateLimiterMemory({ points: LOGIN_FAILURES_PER_SOURCE, duration: LOGIN_SOURCE_WINDOW_SECONDS });
  private readonly secureBase: boolean;

  constructor(readonly services: Services) {
    const { db, config } = services;
    this.audit = new AuditLogService(db);
    this.users = new StaffUsers(db, this.audit);
    this.sessions = new Sessions(db, { hours: config.HUB_SESSION_HOURS, idleMinutes: config.HUB_SESSION_IDLE_MINUTES });
    this.tokens = new ApiTokens(db, this.audit);
    this.workflow = new Workflow(db, this.audit);
    const contentDir = services.content?.dir ?? resolveContentDir(config.CONTENT_DIR);
    this.labels = loadIndicatorLabels(contentDir);
    this.L = hubLabels(contentDir);
    this.targets = targetsFrom(config);
    this.env = createRenderer(this.L);
    this.secureBase = config.publicBaseUrl.startsWith('https://');
  }

  /** True when the hub is served over HTTPS (configured public URL, or a TLS socket). */
  isSecure(req: HubRequest): boolean {
    if (this.secureBase) return true;
    try {
      if (req.isSecure?.()) return true;
    } catch {
      /* ignore */
    }
    return Boolean((req.socket as TLSSocket | undefined)?.encrypted);
  }

  sourceKey(req: HubRequest): string {
    // The real client behind a same-host reverse proxy, as the public endpoints count it (else everyone shares the proxy's limit).
    return crypto.createHash('sha256').update(sourceAddress(req)).digest('base64url').slice(0, 22);
  }

  get db() {
    return this.services.db;
  }

  get logger() {
    return this.services.logger;
  }
}
