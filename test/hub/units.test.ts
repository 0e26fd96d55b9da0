// Pure pieces of the hub: password policy, filters, targets, cursors, charts.
import { passwordProblem } from '../../hub/auth/passwords';
import { parseScopes } from '../../hub/auth/tokens';
import { hbarChart, stackedChart, weekStart } from '../../hub/dashboard';
import { decodeCursor, encodeCursor, FilterError, overdueMinutes, parseFilters } from '../../hub/referrals/queue';
import { closureNeedsSupervisor } from '../../hub/referrals/workflow';

describe('password policy', () => {
  test.each([
    ['short', 'Tr0ub4dor&3'],
    ['common', 'password1234'],
    ['common with symbols', 'Password1234!'],
    ['common phrase', 'correct horse battery staple'],
    ['repeated', 'aaaaaaaaaaaaaa'],
    ['sequence', '123456789012'],
    ['contains username', 'tina-is-great-2024'],
    ['the product name', 'SpeakSafe2026'],
  ])('refuses a %s password', (_why, pw) => {
    expect(passwordProblem(pw, 'tina')).not.toBeNull();
  });
  test.each(['amber kettle lighthouse 2718', 'violet harbour pencil 77', 'Q7#mZp!9vL2@wX'])('accepts %s', (pw) => {
    expect(passwordProblem(pw, 'tina')).toBeNull();
  });
});

describe('filters', () => {
  test('defaults to open referrals and ignores empty values', () => {
    expect(parseFilters({})).toEqual({ status: 'open' });
    expect(parseFilters({ status: '', town: ' ', urgency: 'high', overdue: 'on' })).toEqual({ status: 'open', urgency: 'high', overdue: true });
  });
  test('rejects unknown values', () => {
    expect(() => parseFilters({ status: 'deleted' })).toThrow(FilterError);
    expect(() => parseFilters({ concernType: 'x' })).toThrow(FilterError);
    expect(() => parseFilters({ indicator: '<b>' })).toThrow(FilterError);
  });
  test('uses the first of repeated values', () => {
    expect(parseFilters({ urgency: ['high', 'standard'] })).toMatchObject({ urgency: 'high' });
  });
});

describe('targets', () => {
  const targets = { immediate: 60, high: 1440, standard: 7200 };
  const now = new Date('2026-11-20T12:00:00Z');
  test('only new referrals past their urgency target are overdue', () => {
    expect(overdueMinutes(targets, { status: 'new', urgency: 'immediate', createdAt: new Date(now.getTime() - 61 * 60_000) }, now)).toBe(1);
    expect(overdueMinutes(targets, { status: 'new', urgency: 'immediate', createdAt: new Date(now.getTime() - 59 * 60_000) }, now)).toBe(0);
    expect(overdueMinutes(targets, { status: 'triaged', urgency: 'immediate', createdAt: new Date(now.getTime() - 600 * 60_000) }, now)).toBe(0);
    expect(overdueMinutes(targets, { status: 'new', urgency: 'high', createdAt: new Date(now.getTime() - 25 * 3_600_000) }, now)).toBe(60);
    expect(overdueMinutes(targets, { status: 'new', urgency: 'standard', createdAt: new Date(now.getTime() - 4 * 86_400_000) }, now)).toBe(0);
  });
});

test('cursors round-trip and reject tampering', () => {
  const row = { urgencyRank: 1, createdAt: new Date('2026-01-01T00:00:00Z'), id: 'abc' };
  expect(decodeCursor(encodeCursor(row))).toEqual({ r: 1, t: '2026-01-01T00:00:00.000Z', i: 'abc' });
  expect(() => decodeCursor('not-a-cursor')).toThrow(FilterError);
});

test('scopes are validated', () => {
  expect(parseScopes('referrals:read, export')).toEqual(['referrals:read', 'export']);
  expect(() => parseScopes('admin')).toThrow(/Unknown scope/);
  expect(() => parseScopes('')).toThrow(/at least one/);
});

test('closure guard: immediate, high or unknown risk needs a supervisor', () => {
  expect(closureNeedsSupervisor({ urgency: 'standard', riskUnknown: false })).toBe(false);
  expect(closureNeedsSupervisor({ urgency: 'standard', riskUnknown: true })).toBe(true);
  expect(closureNeedsSupervisor({ urgency: 'high', riskUnknown: false })).toBe(true);
  expect(closureNeedsSupervisor({ urgency: 'immediate', riskUnknown: false })).toBe(true);
});

describe('charts', () => {
  test('weeks start on Monday (UTC)', () => {
    expect(weekStart(new Date('2026-11-22T23:00:00Z')).toISOString()).toBe('2026-11-16T00:00:00.000Z'); // Sunday
    expect(weekStart(new Date('2026-11-23T00:00:00Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z'); // Monday
  });
  test('bar lengths are proportional and zero stays zero', () => {
    const c = hbarChart('x', 't', 'd', [
      { label: 'a', value: 10, display: '10' },
      { label: 'b', value: 5, display: '5' },
      { label: 'c', value: 0, display: '0' },
    ], 'n');
    expect(c.bars[0]!.w).toBe(2 * c.bars[1]!.w);
    expect(c.bars[2]!.w).toBe(0);
  });
  test('stacked segments add up to the column total', () => {
    const c = stackedChart('s', 't', 'd', ['w1', 'w2'], [{ key: 'a', label: 'A' }, { key: 'b', label: 'B' }], [[2, 3], [0, 0]]);
    const col = c.columns[0]!;
    expect(col.total).toBe(5);
    const height = col.segments.reduce((s, x) => s + x.h, 0);
    expect(Math.round(c.plotBottom - col.totalY - 4)).toBe(Math.round(height));
    expect(c.columns[1]!.segments).toEqual([]);
  });
});
