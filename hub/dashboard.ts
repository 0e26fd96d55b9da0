// The dashboard: the picture partners said they lacked. Figures are computed
// in code from a window of referrals (portable: no SQL dialect features), and
// drawn as simple SVG charts, each with a title, a description and a data
// table carrying the same numbers.
import type { Db } from '../bot/db/prisma';
import { CONCERN_TYPES } from '../bot/referrals/types';
import { CHILD_AGE_BANDS, type HubLabels, type IndicatorLabels } from './labels';
import type { Targets } from './referrals/queue';

export const SERIES_COLOURS = ['#1f4e9c', '#b3541e', '#1b7a4a', '#7a3b8f', '#4d4d4d', '#8a6d00'];

export interface BarRow {
  label: string;
  value: number;
  display: string;
}

export interface HBarChart {
  id: string;
  title: string;
  desc: string;
  width: number;
  height: number;
  labelWidth: number;
  bars: Array<BarRow & { y: number; w: number; h: number; textX: number; textY: number }>;
  valueHeading: string;
}

export interface StackedChart {
  id: string;
  title: string;
  desc: string;
  width: number;
  height: number;
  plotTop: number;
  plotBottom: number;
  plotLeft: number;
  series: Array<{ key: string; label: string; colour: string }>;
  columns: Array<{
    label: string;
    total: number;
    x: number;
    w: number;
    labelX: number;
    totalY: number;
    segments: Array<{ key: string; label: string; value: number; y: number; h: number; colour: string }>;
  }>;
  ticks: Array<{ value: number; y: number }>;
  table: { headings: string[]; rows: Array<{ label: string; cells: number[]; total: number }> };
}

export function hbarChart(id: string, title: string, desc: string, rows: BarRow[], valueHeading: string): HBarChart {
  const barH = 22;
  const gap = 10;
  const labelWidth = 220;
  const plotWidth = 360;
  const width = labelWidth + plotWidth + 70;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const bars = rows.map((r, i) => {
    const y = 10 + i * (barH + gap);
    const w = r.value > 0 ? Math.max(2, Math.round((r.value / max) * plotWidth)) : 0;
    return { ...r, y, w, h: barH, textX: labelWidth + w + 6, textY: y + barH / 2 + 5 };
  });
  return { id, title, desc, width, height: Math.max(40, 10 + rows.length * (barH + gap)), labelWidth, bars, valueHeading };
}

function niceStep(max: number): number {
  const raw = max / 4;
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const n = raw / pow;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * pow;
}

export function stackedChart(
  id: string,
  title: string,
  desc: string,
  columnLabels: string[],
  series: Array<{ key: string; label: string }>,
  values: number[][], // [column][series]
): StackedChart {
  const plotLeft = 44;
  const plotTop = 16;
  const plotBottom = 220;
  const colW = 34;
  const gap = 14;
  const width = plotLeft + columnLabels.length * (colW + gap) + 20;
  const totals = values.map((v) => v.reduce((a, b) => a + b, 0));
  const step = niceStep(Math.max(1, ...totals));
  const top = Math.max(step, Math.ceil(Math.max(1, ...totals) / step) * step);
  const scale = (plotBottom - plotTop) / top;
  const coloured = series.map((s, i) => ({ ...s, colour: SERIES_COLOURS[i % SERIES_COLOURS.length]! }));
  const columns = columnLabels.map((label, c) => {
    const x = plotLeft + 10 + c * (colW + gap);
    let y = plotBottom;
    const segments = coloured.map((s, i) => {
      const value = values[c]![i] ?? 0;
      const h = value * scale;
      y -= h;
      return { key: s.key, label: s.label, value, y, h, colour: s.colour };
    }).filter((s) => s.value > 0);
    return { label, total: totals[c]!, x, w: colW, labelX: x + colW / 2, totalY: plotBottom - totals[c]! * scale - 4, segments };
  });
  const ticks: Array<{ value: number; y: number }> = [];
  for (let v = 0; v <= top; v += step) ticks.push({ value: v, y: plotBottom - v * scale });
  return {
    id,
    title,
    desc,
    width: Math.max(width, 320),
    height: plotBottom + 40,
    plotTop,
    plotBottom,
    plotLeft,
    series: coloured,
    columns,
    ticks,
    table: {
      headings: series.map((s) => s.label),
      rows: columnLabels.map((label, c) => ({ label, cells: values[c]!, total: totals[c]! })),
    },
  };
}

/** Monday 00:00 UTC of the week containing `d`. */
export function weekStart(d: Date): Date {
  const day = (d.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const shortDate = (d: Date): string => `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function formatDuration(minutes: number): string {
  if (minutes < 1) return 'under a minute';
  if (minutes < 90) return `${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${hours.toFixed(hours < 10 ? 1 : 0)} h`;
  return `${(hours / 24).toFixed(1)} days`;
}

export interface Dashboard {
  weeks: number;
  since: Date;
  total: number;
  perWeek: StackedChart;
  byTown: HBarChart;
  topIndicators: HBarChart;
  visiting: {
    children: number;
    visiting: number;
    share: string;
    chart: HBarChart;
  };
  timeToTriage: {
    chart: HBarChart;
    rows: Array<{ urgency: string; label: string; count: number; median: string; p90: string; target: string; withinTarget: string }>;
  };
}

export async function buildDashboard(
  db: Db,
  options: { weeks: number; labels: IndicatorLabels; hubLabels: Pick<HubLabels, 'CONCERN_LABELS' | 'URGENCY_LABELS'>; targets: Targets; now?: Date },
): Promise<Dashboard> {
  const now = options.now ?? new Date();
  const { CONCERN_LABELS, URGENCY_LABELS } = options.hubLabels;
  const firstWeek = weekStart(new Date(now.getTime() - (options.weeks - 1) * 7 * 86_400_000));
  const rows = await db.referral.findMany({
    where: { createdAt: { gte: firstWeek } },
    select: {
      createdAt: true,
      concernType: true,
      locationTown: true,
      subjectAgeBand: true,
      subjectResidency: true,
      urgency: true,
      triagedAt: true,
      indicators: { select: { code: true } },
    },
  });

  // Referrals per week by concern type.
  const weekStarts = Array.from({ length: options.weeks }, (_, i) => new Date(firstWeek.getTime() + i * 7 * 86_400_000));
  const concernKeys: string[] = [...CONCERN_TYPES];
  for (const r of rows) if (!concernKeys.includes(r.concernType)) concernKeys.push(r.concernType);
  const perWeekValues = weekStarts.map(() => concernKeys.map(() => 0));
  for (const r of rows) {
    const w = Math.floor((weekStart(r.createdAt).getTime() - firstWeek.getTime()) / (7 * 86_400_000));
    if (w >= 0 && w < options.weeks) perWeekValues[w]![concernKeys.indexOf(r.concernType)]! += 1;
  }
  const perWeek = stackedChart(
    'chart-per-week',
    'Referrals per week by concern type',
    `Stacked bars, one per week starting Monday, for the last ${options.weeks} weeks: ${rows.length} referrals in all. The table below gives every number.`,
    weekStarts.map(shortDate),
    concernKeys.map((k) => ({ key: k, label: CONCERN_LABELS[k] ?? k })),
    perWeekValues,
  );

  // By town.
  const townCounts = new Map<string, number>();
  for (const r of rows) townCounts.set(r.locationTown ?? 'Not given', (townCounts.get(r.locationTown ?? 'Not given') ?? 0) + 1);
  const towns = [...townCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 15);
  const byTown = hbarChart(
    'chart-by-town',
    'Referrals by town',
    `Horizontal bars: the ${towns.length} towns with most referrals in the period, most first.`,
    towns.map(([label, value]) => ({ label, value, display: String(value) })),
    'Referrals',
  );

  // Top indicators.
  const indicatorCounts = new Map<string, number>();
  for (const r of rows) for (const i of r.indicators) indicatorCounts.set(i.code, (indicatorCounts.get(i.code) ?? 0) + 1);
  const indicators = [...indicatorCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
  const topIndicators = hbarChart(
    'chart-top-indicators',
    'Top indicators',
    `Horizontal bars: the ${indicators.length} signs of exploitation reported most often in the period, with how many referrals mention each.`,
    indicators.map(([code, value]) => ({ label: options.labels.label(code), value, display: String(value) })),
    'Referrals',
  );

  // Share of visiting children.
  const children = rows.filter((r) => (CHILD_AGE_BANDS as string[]).includes(r.subjectAgeBand));
  const residencyCounts = { lives_here: 0, visiting: 0, unknown: 0 } as Record<string, number>;
  for (const r of children) residencyCounts[r.subjectResidency] = (residencyCounts[r.subjectResidency] ?? 0) + 1;
  const pct = (n: number): string => (children.length ? `${Math.round((n / children.length) * 100)}%` : '–');
  const visitingCount = residencyCounts.visiting ?? 0;
  const visiting = {
    children: children.length,
    visiting: visitingCount,
    share: pct(visitingCount),
    chart: hbarChart(
      'chart-visiting',
      'Children: visiting or living in the area',
      `Horizontal bars: of ${children.length} referrals about a child, ${visitingCount} (${pct(visitingCount)}) were about a child visiting or staying temporarily.`,
      [
        { label: 'Visiting or staying temporarily', value: visitingCount, display: `${visitingCount} (${pct(visitingCount)})` },
        { label: 'Lives in the area', value: residencyCounts.lives_here ?? 0, display: `${residencyCounts.lives_here ?? 0} (${pct(residencyCounts.lives_here ?? 0)})` },
        { label: 'Not known', value: residencyCounts.unknown ?? 0, display: `${residencyCounts.unknown ?? 0} (${pct(residencyCounts.unknown ?? 0)})` },
      ],
      'Referrals about a child',
    ),
  };

  // Time to triage, by urgency.
  const triageRows = (['immediate', 'high', 'standard'] as const).map((u) => {
    const minutes = rows
      .filter((r) => r.urgency === u && r.triagedAt)
      .map((r) => (r.triagedAt!.getTime() - r.createdAt.getTime()) / 60_000)
      .sort((a, b) => a - b);
    const target = options.targets[u];
    const within = minutes.filter((m) => m <= target).length;
    return {
      urgency: u,
      label: URGENCY_LABELS[u]!,
      count: minutes.length,
      medianMinutes: quantile(minutes, 0.5),
      median: minutes.length ? formatDuration(quantile(minutes, 0.5)) : '–',
      p90: minutes.length ? formatDuration(quantile(minutes, 0.9)) : '–',
      target: formatDuration(target),
      withinTarget: minutes.length ? `${Math.round((within / minutes.length) * 100)}%` : '–',
    };
  });
  const timeChart = hbarChart(
    'chart-time-to-triage',
    'Median time to triage by urgency',
    'Horizontal bars: the median time from receiving a referral to triaging it, for each urgency, with its target beside it in the table.',
    triageRows.map((r) => ({
      label: `${r.label} (target ${r.target})`,
      value: Math.round(r.medianMinutes),
      display: r.count ? r.median : 'none triaged',
    })),
    'Median time to triage',
  );

  return {
    weeks: options.weeks,
    since: firstWeek,
    total: rows.length,
    perWeek,
    byTown,
    topIndicators,
    visiting,
    timeToTriage: {
      chart: timeChart,
      rows: triageRows.map(({ medianMinutes: _m, ...r }) => r),
    },
  };
}
