// HashedRateLimit (bot/channels/http.ts): a fixed one-minute window per key,
// counted in bounded memory.
import { HashedRateLimit } from '../../bot/channels/http';

const SECRET = 's'.repeat(32);

test('allows the limit in a minute, then refuses with the seconds until the window reopens', async () => {
  let now = 1_000_000;
  const limit = new HashedRateLimit(SECRET, 'test', 3, 100, () => now);
  for (let i = 0; i < 3; i++) expect(await limit.take('a')).toEqual({ ok: true });
  now += 20_000;
  expect(await limit.take('a')).toEqual({ ok: false, retryAfterSeconds: 40 });
  // Others have their own windows.
  expect(await limit.take('b')).toEqual({ ok: true });
  now += 39_500;
  expect(await limit.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
  now += 600; // the window opened by the first request has closed
  expect(await limit.take('a')).toEqual({ ok: true });
});

test('check() reports a used-up allowance without using a point', async () => {
  let now = 0;
  const limit = new HashedRateLimit(SECRET, 'test', 2, 100, () => now);
  expect(await limit.check('x')).toEqual({ ok: true });
  expect(await limit.check('x')).toEqual({ ok: true });
  await limit.take('x');
  expect(await limit.check('x')).toEqual({ ok: true });
  await limit.take('x');
  expect(await limit.check('x')).toEqual({ ok: false, retryAfterSeconds: 60 });
  now += 60_000;
  expect(await limit.check('x')).toEqual({ ok: true });
});

test('memory stays bounded however many callers there are; an active caller keeps its count', async () => {
  const limit = new HashedRateLimit(SECRET, 'test', 5, 1000);
  for (let i = 0; i < 5; i++) await limit.take('abuser');
  for (let i = 0; i < 5000; i++) {
    await limit.take(`conversation-${i}`);
    // The abuser keeps writing: it stays recently used, so it is never forgotten.
    if (i % 500 === 0) expect((await limit.take('abuser')).ok).toBe(false);
  }
  expect(limit.size).toBeLessThanOrEqual(1000);
  expect((await limit.take('abuser')).ok).toBe(false);
});
