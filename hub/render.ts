// Server-side rendering with nunjucks, autoescaping ON: every value printed
// in a template is HTML-escaped unless a template marks it safe (none do for
// user-supplied text: the reporter's words are always escaped).
import fs from 'node:fs';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { labelOf, type HubLabels } from './labels';
import { formatDuration } from './dashboard';

export function hubAssetDir(name: 'views' | 'static'): string {
  const candidates = [
    path.join(__dirname, name),
    // Compiled code runs from dist/hub; templates stay in hub/.
    path.resolve(__dirname, '..', '..', 'hub', name),
  ];
  return candidates.find((d) => fs.existsSync(d)) ?? candidates[0]!;
}

const dateFmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

const dayFmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });

export function formatDate(d: Date | string | null | undefined): string {
  if (!d) return '';
  const date = typeof d === 'string' ? new Date(d) : d;
  return Number.isNaN(date.getTime()) ? '' : dateFmt.format(date);
}

export function createRenderer(labels: HubLabels): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(hubAssetDir('views'), { noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('date', (d: Date | string | null | undefined) => formatDate(d));
  env.addFilter('day', (d: Date | string | null | undefined) => (d ? dayFmt.format(new Date(d)) : ''));
  env.addFilter('iso', (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : ''));
  env.addFilter('duration', (minutes: number) => formatDuration(minutes));
  env.addFilter('label', (code: string | null | undefined, map: Record<string, string>) => labelOf(map, code));
  env.addGlobal('L', labels);
  return env;
}
