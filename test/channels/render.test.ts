// The rendering layer: Markdown to plain SMS text, numbered options, segment
// arithmetic and sentence-boundary splitting; Web Chat gets activities as they are.
import path from 'node:path';
import fc from 'fast-check';
import { loadContent } from '../../bot/content';
import { activityToSmsText, markdownToPlain, numberList, renderReplies, renderSms, type SmsRenderOptions } from '../../bot/channels/render';
import { isGsm7, segmentCount, splitSms, toSmsFriendly } from '../../bot/channels/smsText';

const options: SmsRenderOptions = { locale: 'en-GB', choiceHint: ({ numbers }) => `Reply ${numbers}.` };
const MARKDOWN_SYMBOLS = /[*`#]|(^|\s)_\S|\S_(\s|$)|^\s*[-+] /m;

describe('markdownToPlain', () => {
  it('removes emphasis, headings, bullets, code and link syntax', () => {
    const md = [
      '# What is **county lines**?',
      '',
      'It is *never* your fault. Call `999` now.',
      '- First sign',
      '* Second sign',
      '+ Third sign',
      '> A quote',
      'See [the NCA page](https://www.nationalcrimeagency.gov.uk) or __ask us__.',
      '---',
    ].join('\n');
    const plain = markdownToPlain(md);
    expect(plain).toBe(
      [
        'What is county lines?',
        '',
        'It is never your fault. Call 999 now.',
        'First sign',
        'Second sign',
        'Third sign',
        'A quote',
        'See the NCA page (https://www.nationalcrimeagency.gov.uk) or ask us.',
      ].join('\n'),
    );
    expect(plain).not.toMatch(MARKDOWN_SYMBOLS);
  });

  it('keeps underscores inside words (social media handles) and ordered lists', () => {
    expect(markdownToPlain('Handle @dan_the_man_99\n1. One\n2. Two')).toBe('Handle @dan_the_man_99\n1. One\n2. Two');
  });

  it('drops stray symbols that are left over', () => {
    expect(markdownToPlain('**unclosed bold and a ` tick')).toBe('unclosed bold and a  tick');
  });
});

describe('SMS options', () => {
  it('numbers suggested actions in order and adds the reply line', () => {
    const text = activityToSmsText(
      {
        type: 'message',
        text: 'So I can help, who are you?',
        suggestedActions: {
          to: [],
          actions: [
            { type: 'imBack', title: "I'm a young person", value: "I'm a young person" },
            { type: 'imBack', title: 'Parent or carer', value: 'Parent or carer' },
            { type: 'imBack', title: 'Professional', value: 'Professional' },
          ],
        },
      },
      options,
    );
    expect(text).toBe("So I can help, who are you?\n1. I'm a young person\n2. Parent or carer\n3. Professional\nReply 1, 2 or 3.");
  });

  it('turns hero card buttons into options and links into lines', () => {
    const text = activityToSmsText(
      {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.hero',
            content: {
              title: 'Get help',
              buttons: [
                { type: 'imBack', title: 'Yes', value: 'Yes' },
                { type: 'imBack', title: 'No', value: 'No' },
                { type: 'openUrl', title: 'Childline', value: 'https://www.childline.org.uk' },
              ],
            },
          },
        ],
      },
      options,
    );
    expect(text).toBe('Get help\n1. Yes\n2. No\nReply 1 or 2.\n\nChildline: https://www.childline.org.uk');
  });

  it('formats the numbers list for the locale', () => {
    expect(numberList(1)).toBe('1');
    expect(numberList(2)).toBe('1 or 2');
    expect(numberList(5)).toBe('1, 2, 3, 4 or 5');
    expect(numberList(10)).toBe('1–10');
  });
});

describe('SMS segments', () => {
  it('counts GSM-7 and UCS-2 segments', () => {
    expect(segmentCount('a'.repeat(160))).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(segmentCount('a'.repeat(161))).toMatchObject({ encoding: 'GSM-7', segments: 2 });
    expect(segmentCount('a'.repeat(306))).toMatchObject({ segments: 2 });
    expect(segmentCount('a'.repeat(307))).toMatchObject({ segments: 3 });
    expect(segmentCount('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(segmentCount('ç'.repeat(70))).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(segmentCount('ç'.repeat(71))).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(segmentCount('😀'.repeat(34))).toMatchObject({ encoding: 'UCS-2', segments: 1, units: 68 });
  });

  it('replaces typographic punctuation so messages stay GSM-7', () => {
    const s = toSmsFriendly('It’s “never” your fault – call 999… • now');
    expect(s).toBe('It\'s "never" your fault - call 999... - now');
    expect(isGsm7(s)).toBe(true);
  });
});

describe('splitSms', () => {
  const sentence = (i: number): string => `This is sentence number ${i}, and it says something useful about staying safe.`;

  it('keeps short text whole', () => {
    expect(splitSms('Hello there. How are you?')).toEqual(['Hello there. How are you?']);
  });

  it('splits long text at sentence boundaries into chunks of at most 3 segments', () => {
    const text = Array.from({ length: 20 }, (_, i) => sentence(i)).join(' ');
    const chunks = splitSms(text, 3);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect(segmentCount(c).segments).toBeLessThanOrEqual(3);
      expect(c).toMatch(/\.$/);
      expect(c).toMatch(/^This is sentence/);
    }
    expect(chunks.join(' ')).toBe(text);
  });

  it('splits a UCS-2 text on its smaller budget', () => {
    const text = Array.from({ length: 10 }, (_, i) => `Çeci est la phrase ${i}.`).join(' ');
    for (const c of splitSms(text, 3)) expect(segmentCount(c).segments).toBeLessThanOrEqual(3);
  });

  it('never loses words and never exceeds the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ minLength: 1, maxLength: 200 }), fc.constantFrom('.', '!', '?', '\n', '\n\n', ' ', 'é', '€', '😀')), {
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 4 }),
        (parts, max) => {
          const text = parts.join('');
          const chunks = splitSms(text, max);
          for (const c of chunks) expect(segmentCount(c).segments).toBeLessThanOrEqual(max);
          const words = (s: string): string => s.replace(/\s+/g, '');
          expect(words(chunks.join(''))).toBe(words(text.replace(/\r\n?/g, '\n')));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('renderReplies', () => {
  const turn = [
    { type: 'message', text: '**Cuckooing**\n\nWhen someone takes over a home.' },
    {
      type: 'message',
      text: 'What next?',
      serviceUrl: 'urn:speaksafe:in-process',
      recipient: { id: 'user', name: '' },
      suggestedActions: { to: [], actions: [{ type: 'imBack', title: 'Report a worry', value: 'Report a worry' }] },
    },
    { type: 'trace', name: 'ignored' },
  ];

  it('gives Web Chat the activities unchanged, in a clean envelope', () => {
    const out = renderReplies('webchat', turn as never, { conversationId: 'c1' });
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ type: 'message', text: '**Cuckooing**\n\nWhen someone takes over a home.', from: { role: 'bot' } });
    expect(out[1]).toMatchObject({ suggestedActions: { actions: [{ type: 'imBack', title: 'Report a worry', value: 'Report a worry' }] } });
    expect(out[1]).not.toHaveProperty('serviceUrl');
    expect(out[1]).not.toHaveProperty('recipient');
    expect((out[1].suggestedActions as Record<string, unknown>).to).toBeUndefined();
  });

  it('gives SMS plain text with a numbered list', () => {
    const out = renderReplies('sms', turn as never, options);
    expect(out).toEqual(['Cuckooing\n\nWhen someone takes over a home.\n\nWhat next?\n1. Report a worry\nReply 1.']);
  });
});

describe('every topic and message, as SMS', () => {
  const content = loadContent({ dir: path.resolve(__dirname, '../../content') });

  it('has no Markdown symbols, stays GSM-7 and within 3 segments per message', () => {
    for (const topic of content.topics) {
      const chunks = renderSms([{ type: 'message', text: `**${topic.title}**\n\n${topic.body}` }], options);
      expect(chunks.length).toBeGreaterThan(0);
      for (const c of chunks) {
        expect(c).not.toMatch(MARKDOWN_SYMBOLS);
        expect(segmentCount(c).segments).toBeLessThanOrEqual(3);
        if (!isGsm7(c)) throw new Error(`${topic.file}: not GSM-7 after rendering: ${[...c].filter((ch) => !isGsm7(ch)).join(' ')}`);
      }
    }
  });
});
