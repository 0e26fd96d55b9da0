// Bot Framework authentication that reuses its outbound clients.
//
// botbuilder's CloudAdapter asks its BotFrameworkAuthentication for a new
// ConnectorClient and a new UserTokenClient on every request; building their
// Azure HTTP pipelines was about 15% of a SpeakSafe turn over /api/messages,
// although with expectReplies neither sends anything. This wrapper delegates
// everything (authentication above all) to botbuilder's own implementation and
// keeps the clients it builds, per app id, service URL and audience, as
// botbuilder's older BotFrameworkAdapter did. The clients hold no per-turn
// state; their credentials fetch and cache tokens themselves.
import type { Activity } from 'botbuilder';
import { LRUCache } from 'lru-cache';
import {
  BotFrameworkAuthentication,
  ConnectorFactory,
  AuthenticationConstants,
  type AuthenticateRequestResult,
  type BotFrameworkClient,
  type ClaimsIdentity,
  type ConnectorClient,
  type UserTokenClient,
} from 'botframework-connector';

/** Which bot the clients act for: botbuilder picks the app id from these claims (audience, else appid). */
const appIdOf = (claims: ClaimsIdentity): string =>
  JSON.stringify([claims.getClaimValue(AuthenticationConstants.AudienceClaim), claims.getClaimValue(AuthenticationConstants.AppIdClaim)]);

/** The cached client for a key, made on first use; a failed creation is not kept, so the next request tries again. */
function cached<T>(cache: LRUCache<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let client = cache.get(key);
  if (!client) {
    client = make();
    cache.set(key, client);
    client.catch(() => cache.delete(key));
  }
  return client;
}

class CachingConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly inner: ConnectorFactory,
    private readonly appId: string,
    private readonly clients: LRUCache<string, Promise<ConnectorClient>>,
  ) {
    super();
  }

  create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    const key = JSON.stringify([this.appId, serviceUrl, audience ?? null]);
    return cached(this.clients, key, () => this.inner.create(serviceUrl, audience));
  }
}

export class CachingBotFrameworkAuthentication extends BotFrameworkAuthentication {
  // Bounded: without credentials a caller can name any serviceUrl.
  private readonly connectors = new LRUCache<string, Promise<ConnectorClient>>({ max: 64 });
  private readonly userTokenClients = new LRUCache<string, Promise<UserTokenClient>>({ max: 16 });

  constructor(private readonly inner: BotFrameworkAuthentication) {
    super();
  }

  async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    return this.withCachingFactory(await this.inner.authenticateRequest(activity, authHeader));
  }

  async authenticateStreamingRequest(authHeader: string, channelIdHeader: string): Promise<AuthenticateRequestResult> {
    return this.withCachingFactory(await this.inner.authenticateStreamingRequest(authHeader, channelIdHeader));
  }

  createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return new CachingConnectorFactory(this.inner.createConnectorFactory(claimsIdentity), appIdOf(claimsIdentity), this.connectors);
  }

  createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return cached(this.userTokenClients, appIdOf(claimsIdentity), () => this.inner.createUserTokenClient(claimsIdentity));
  }

  override createBotFrameworkClient(): BotFrameworkClient {
    return this.inner.createBotFrameworkClient();
  }

  override getOriginatingAudience(): string {
    return this.inner.getOriginatingAudience();
  }

  override authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    return this.inner.authenticateChannelRequest(authHeader);
  }

  private withCachingFactory(result: AuthenticateRequestResult): AuthenticateRequestResult {
    if (!result.connectorFactory) return result;
    return { ...result, connectorFactory: new CachingConnectorFactory(result.connectorFactory, appIdOf(result.claimsIdentity), this.connectors) };
  }
}
