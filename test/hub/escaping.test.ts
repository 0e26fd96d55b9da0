// Reporter text is data, never markup or formulas: XSS payloads render
// escaped, and CSV exports neutralise spreadsheet formulas.
import { neutraliseCell } from '../../hub/export';
import { Client, createStaff, makeReferral, startHubApp, unescapeHtml, type HubTestApp } from './fixtures';

let t: HubTestApp;
let sup: Client;

const PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  "'; alert(1); '",
  '{{ 7*7 }} {% raw %}',
  'javascript:alert(1)',
  '<a href="javascript:alert(1)">click</a>',
];

beforeAll(async () => {
  t = await startHubApp();
  await createStaff(t, 'sam', 'supervisor');
  sup = new Client(t.url);
  await sup.login('sam');
});
afterAll(async () => t?.close());

describe('XSS', () => {
  test.each(PAYLOADS)('reporter text %s is shown escaped, never as markup', async (payload) => {
    const ref = await makeReferral(t.services, {
      narrative: `Worried about him. ${payload}`,
      detail: payload,
      subjectName: payload,
      town: 'Poole',
      entities: { names: [payload], addresses: [payload] },
      reasons: [{ code: 'x', text: payload }],
      contact: payload,
    });
    await t.services.referrals.addAddendum(ref, { channel: 'test', text: payload, indicators: [], entities: { phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] } });
    for (const html of [(await sup.get(`/hub/referrals/${ref}`)).text, (await sup.post(`/hub/referrals/${ref}/contact`)).text]) {
      if (/[<>"]/.test(payload)) expect(html).not.toContain(payload);
      expect(html).not.toMatch(/<script>alert|<img src=x|<svg onload|<a href="javascript/);
      // The escaped text is there, and reads back as the original words.
      const words = /<blockquote class="reporter-words prewrap">([\s\S]*?)<\/blockquote>/.exec(html)![1]!;
      expect(unescapeHtml(words)).toBe(`Worried about him. ${payload}`);
      // Template syntax in reporter text is not evaluated.
      if (payload.startsWith('{{')) expect(words).toContain('{{ 7*7 }}');
    }
    const q = await sup.get('/hub/queue?town=Poole');
    expect(q.text).not.toMatch(/<script>alert|<img src=x|<svg onload/);
  });
});

describe('CSV export', () => {
  test('neutraliseCell prefixes formula starters with a quote', () => {
    for (const s of ['=SUM(A1)', '+1', '-1+2', '@cmd', '\tx', '\rx']) expect(neutraliseCell(s)).toBe(`'${s}`);
    for (const s of ['hello', 'a=b', '', ' =x']) expect(neutraliseCell(s)).toBe(s);
  });

  test('formula-like reporter text is neutralised in the exported file', async () => {
    const formulas = ['=HYPERLINK("http://evil.example","click")', '+cmd|\' /C calc\'!A0', '-2+3', '@SUM(1,1)', '\t=1+1', '\r=1+1'];
    const town = 'Christchurch';
    const refs: string[] = [];
    for (const f of formulas) refs.push(await makeReferral(t.services, { town, narrative: f, detail: f, entities: { names: [f] } }));
    const res = await sup.get(`/hub/export.csv?town=${town}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="speaksafe-referrals-\d+\.csv"$/);
    const rows = parseCsv(res.text);
    expect(rows).toHaveLength(formulas.length);
    for (const row of rows) {
      for (const [col, cell] of Object.entries(row)) {
        expect([col, /^[=+\-@\t\r]/.test(cell)]).toEqual([col, false]);
      }
    }
    const narratives = rows.map((r) => r.narrative).sort();
    expect(narratives).toEqual(formulas.map((f) => `'${f}`).sort());
    expect(rows.map((r) => r.reference).sort()).toEqual(refs.sort());
    const audit = await t.services.db.auditLog.findFirst({ where: { action: 'export.csv' }, orderBy: { seq: 'desc' } });
    expect(JSON.parse(audit!.detail)).toMatchObject({ count: formulas.length, filters: { town } });
  });

  test('JSON export carries the referral shape and is audited', async () => {
    const res = await sup.get('/hub/export.json?town=Christchurch');
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.count).toBe(body.referrals.length);
    expect(body.referrals[0]).toHaveProperty('reference');
    expect(body.referrals[0]).toHaveProperty('narrative');
    expect(await t.services.db.auditLog.count({ where: { action: 'export.json' } })).toBeGreaterThan(0);
  });
});

/** RFC 4180 parsing (quoted fields, doubled quotes, CRLF), rows as header-keyed objects. */
function parseCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      records.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    records.push(row);
  }
  const [header, ...body] = records;
  return body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}
