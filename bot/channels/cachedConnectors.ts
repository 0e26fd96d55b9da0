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

/** A small map that forgets its oldest entry when full (callers can name any serviceUrl). */
class Bounded<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  getOrAdd(key: string, make: () => V): V {
    let value = this.map.get(key);
    if (value === undefined) {
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
      value = make();
      this.map.set(key, value);
    }
    return value;
  }
  forget(key: string): void {
    this.map.delete(key);
  }
}

/** Which bot the clients act for: botbuilder picks the app id from these claims (audience, else appid). */
const appIdOf = (claims: ClaimsIdentity): string =>
  JSON.stringify([claims.getClaimValue(AuthenticationConstants.AudienceClaim), claims.getClaimValue(AuthenticationConstants.AppIdClaim)]);

class CachingConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly inner: ConnectorFactory,
    private readonly appId: string,
    private readonly clients: Bounded<Promise<ConnectorClient>>,
  ) {
    super();
  }

  create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    const key = JSON.stringify([this.appId, serviceUrl, audience ?? null]);
    const client = this.clients.getOrAdd(key, () => this.inner.create(serviceUrl, audience));
    // A failed creation is not kept: the next request tries again.
    client.catch(() => this.clients.forget(key));
    return client;
  }
}

export class CachingBotFrameworkAuthentication extends BotFrameworkAuthentication {
  private readonly connectors = new Bounded<Promise<ConnectorClient>>(64);
  private readonly userTokenClients = new Bounded<Promise<UserTokenClient>>(16);

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
    const key = appIdOf(claimsIdentity);
    const client = this.userTokenClients.getOrAdd(key, () => this.inner.createUserTokenClient(claimsIdentity));
    client.catch(() => this.userTokenClients.forget(key));
    return client;
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
