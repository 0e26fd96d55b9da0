// SpeakSafe writes its TwiML directly (bot/channels/twiml.ts, for speed); it
// must be exactly what twilio's own MessagingResponse writes.
import fc from 'fast-check';
import twilio from 'twilio';
import { messagingTwiml } from '../../bot/channels/twiml';

const viaTwilio = (messages: string[]): string => {
  const response = new twilio.twiml.MessagingResponse();
  for (const m of messages) response.message(m);
  return response.toString();
};

// Text XML 1.0 can carry: what twilio's builder accepts.
const xmlSafe = fc.string({ unit: 'binary', maxLength: 200 }).map((s) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, ''));
const tricky = fc.constantFrom('', ' ', 'a & b', '<Message>', ']]>', '"quoted" \'single\'', 'line\r\nbreak\ttab', 'Ring 999 📞', 'مرحبا', '&amp;');

test('matches twilio.twiml.MessagingResponse for any text it can carry', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(xmlSafe, tricky), { maxLength: 4 }), (messages) => {
      expect(messagingTwiml(messages)).toBe(viaTwilio(messages));
    }),
    { numRuns: 500 },
  );
});

test('drops characters XML cannot carry instead of failing (twilio throws on them)', () => {
  const text = 'a\u0001b\uFFFEc\uD800d\uDC00e\uD83D\uDE00f';
  expect(() => viaTwilio([text])).toThrow();
  expect(messagingTwiml([text])).toBe(viaTwilio(['abcde\uD83D\uDE00f']));
});

test('no messages is an empty response, which sends nothing', () => {
  expect(messagingTwiml([])).toBe(viaTwilio([]));
});
