// CachingBotFrameworkAuthentication (bot/channels/cachedConnectors.ts): every
// request is still authenticated by botbuilder's own code; only the outbound
// clients built afterwards are reused.
import { ConfigurationServiceClientCredentialFactory, createBotFrameworkAuthenticationFromConfiguration } from 'botbuilder';
import { AuthenticationError, ClaimsIdentity, type BotFrameworkAuthentication } from 'botframework-connector';
import { CachingBotFrameworkAuthentication } from '../../bot/channels/cachedConnectors';

const activity = (serviceUrl: string) => ({ type: 'message', channelId: 'test', serviceUrl, conversation: { id: 'c' }, from: { id: 'u' }, recipient: { id: 'b' } }) as never;

function spiedInner(credentials: Record<string, string> = {}) {
  const inner = createBotFrameworkAuthenticationFromConfiguration(null, new ConfigurationServiceClientCredentialFactory(credentials));
  const authenticate = jest.spyOn(inner, 'authenticateRequest');
  const userTokens = jest.spyOn(inner, 'createUserTokenClient');
  return { inner, authenticate, userTokens };
}

test('without credentials: each request authenticated, clients built once per service URL', async () => {
  const { inner, authenticate, userTokens } = spiedInner();
  const auth = new CachingBotFrameworkAuthentication(inner);
  const results = await Promise.all([1, 2, 3].map(() => auth.authenticateRequest(activity('http://127.0.0.1:1/'), '')));
  expect(authenticate).toHaveBeenCalledTimes(3);
  const a = await results[0].connectorFactory!.create('http://127.0.0.1:1/', results[0].audience);
  const b = await results[1].connectorFactory!.create('http://127.0.0.1:1/', results[1].audience);
  const other = await results[2].connectorFactory!.create('http://127.0.0.1:2/', results[2].audience);
  expect(a).toBe(b);
  expect(other).not.toBe(a);
  expect((other as unknown as { baseUri: string }).baseUri).toBe('http://127.0.0.1:2/');
  const t1 = await auth.createUserTokenClient(results[0].claimsIdentity);
  const t2 = await auth.createUserTokenClient(results[1].claimsIdentity);
  expect(t1).toBe(t2);
  expect(userTokens).toHaveBeenCalledTimes(1);
});

test('with credentials, a request without a valid token is still refused, and nothing is cached for it', async () => {
  const { inner } = spiedInner({ MicrosoftAppId: '00000000-0000-0000-0000-000000000001', MicrosoftAppPassword: 'secret', MicrosoftAppType: 'MultiTenant' });
  const auth = new CachingBotFrameworkAuthentication(inner as BotFrameworkAuthentication);
  await expect(auth.authenticateRequest(activity('https://example.invalid/'), '')).rejects.toBeInstanceOf(AuthenticationError);
  await expect(auth.authenticateRequest(activity('https://example.invalid/'), 'Bearer not-a-jwt')).rejects.toThrow();
});

test('clients of different bots (app ids) are never shared', async () => {
  const { inner } = spiedInner();
  const auth = new CachingBotFrameworkAuthentication(inner);
  const claims = (appId: string) => new ClaimsIdentity([{ type: 'aud', value: appId }], true);
  const a = await auth.createConnectorFactory(claims('app-a')).create('http://127.0.0.1:1/');
  const b = await auth.createConnectorFactory(claims('app-b')).create('http://127.0.0.1:1/');
  expect(a).not.toBe(b);
  expect(await auth.createConnectorFactory(claims('app-a')).create('http://127.0.0.1:1/')).toBe(a);
});
