import { ConfigError, loadConfig } from '../../bot/config';

test('defaults: port 3978 and a SQLite file under ./data', () => {
  const c = loadConfig({});
  expect(c.PORT).toBe(3978);
  expect(c.DATABASE_URL).toBe('file:./data/speaksafe.db');
  expect(c.azureAuth).toBe(false);
});

test('a bad variable is named in the error', () => {
  expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  expect(() => loadConfig({ DATABASE_URL: 'postgres://x' })).toThrow(/DATABASE_URL/);
  expect(() => loadConfig({ HUB_ALERT_WEBHOOK_URL: 'not a url' })).toThrow(/HUB_ALERT_WEBHOOK_URL/);
  expect(() => loadConfig({ MicrosoftAppId: 'abc' })).toThrow(/MicrosoftAppPassword/);
});

test('production refuses to start without its secrets', () => {
  expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
  expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/IDENTITY_HASH_SECRET/);
});
