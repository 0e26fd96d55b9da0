// Hub labels are content: content/hub/labels.yml decides what staff read for
// each stored code, and a missing label is a clear content error, not a blank.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadHubLabels } from '../../hub/labels';
import { Client, createStaff, makeReferral, startHubApp } from './fixtures';

const CONTENT = path.resolve(__dirname, '../../content');

function contentCopy(edit: (yaml: string) => string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speaksafe-content-'));
  fs.cpSync(CONTENT, dir, { recursive: true });
  const file = path.join(dir, 'hub', 'labels.yml');
  fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
  return dir;
}

describe('loadHubLabels', () => {
  test('every stored code has its label', () => {
    const labels = loadHubLabels(CONTENT);
    expect(labels.status.closed).toBe('Closed');
    expect(labels.age_band['13_15']).toBe('13 to 15');
    expect(labels.source_evaluation['1']).toMatch(/^1 /);
    expect(labels.scope['referrals:read']).toBeTruthy();
  });

  test('a missing label stops start-up and names the file and the code', async () => {
    const dir = contentCopy((y) => y.replace(/^ {2}nrm_referral: .*\n/m, ''));
    expect(() => loadHubLabels(dir)).toThrow(/Content error in .*labels\.yml: no label for outcome\.nrm_referral/);
    await expect(startHubApp({ CONTENT_DIR: dir })).rejects.toThrow(/Content error in .*labels\.yml: no label for outcome\.nrm_referral/);
  });

  test('an empty label is refused', () => {
    const dir = contentCopy((y) => y.replace(/^ {2}police: .*$/m, '  police: ""'));
    expect(() => loadHubLabels(dir)).toThrow(/Content error in .*labels\.yml/);
  });
});

test("what the service's own content/hub/labels.yml says is what its staff see", async () => {
  // Two services in one process, each with its own content folder (the one its configuration names,
  // not the process environment): each shows its own words.
  const edited = contentCopy((y) => y.replace(/^ {2}new: New$/m, '  new: Waiting for triage'));
  const apps = [await startHubApp({ CONTENT_DIR: edited }), await startHubApp({ CONTENT_DIR: CONTENT })];
  try {
    const pages: string[] = [];
    for (const t of apps) {
      await createStaff(t, 'lena', 'triager');
      const ref = await makeReferral(t.services);
      const c = new Client(t.url);
      await c.login('lena');
      pages.push((await c.get(`/hub/referrals/${ref}`)).text);
    }
    expect(pages[0]).toContain('Waiting for triage');
    expect(pages[1]).not.toContain('Waiting for triage');
    expect(pages[1]).toMatch(/>\s*New\s*</);
  } finally {
    for (const t of apps) await t.close();
  }
});
