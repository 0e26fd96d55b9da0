// Hub labels are content: content/hub/labels.yml decides what staff read for
// each stored code, and a missing label is a clear content error, not a blank.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CONTENT = path.resolve(__dirname, '../../content');

function contentCopy(edit: (yaml: string) => string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speaksafe-content-'));
  fs.cpSync(CONTENT, dir, { recursive: true });
  const file = path.join(dir, 'hub', 'labels.yml');
  fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
  return dir;
}

describe('loadHubLabels', () => {
  // Imported here: hub/labels.ts reads the default content folder when it loads.
  const { loadHubLabels } = require('../../hub/labels') as typeof import('../../hub/labels');

  test('every stored code has its label', () => {
    const labels = loadHubLabels(CONTENT);
    expect(labels.status.closed).toBe('Closed');
    expect(labels.age_band['13_15']).toBe('13 to 15');
    expect(labels.source_evaluation['1']).toMatch(/^1 /);
    expect(labels.scope['referrals:read']).toBeTruthy();
  });

  test('a missing label stops start-up and names the file and the code', () => {
    const dir = contentCopy((y) => y.replace(/^ {2}nrm_referral: .*\n/m, ''));
    expect(() => loadHubLabels(dir)).toThrow(/Content error in .*labels\.yml: no label for outcome\.nrm_referral/);
  });

  test('an empty label is refused', () => {
    const dir = contentCopy((y) => y.replace(/^ {2}police: .*$/m, '  police: ""'));
    expect(() => loadHubLabels(dir)).toThrow(/Content error in .*labels\.yml/);
  });
});

test('what content/hub/labels.yml says is what staff see in the hub', async () => {
  const dir = contentCopy((y) => y.replace(/^ {2}new: New$/m, '  new: Waiting for triage'));
  const previous = process.env.CONTENT_DIR;
  process.env.CONTENT_DIR = dir;
  jest.resetModules();
  const { startHubApp, createStaff, makeReferral, Client } = require('./fixtures') as typeof import('./fixtures');
  const t = await startHubApp({ CONTENT_DIR: dir });
  try {
    await createStaff(t, 'lena', 'triager');
    const ref = await makeReferral(t.services);
    const c = new Client(t.url);
    await c.login('lena');
    const page = await c.get(`/hub/referrals/${ref}`);
    expect(page.text).toContain('Waiting for triage');
  } finally {
    await t.close();
    process.env.CONTENT_DIR = previous;
  }
});
