import { evaluate, MIN_ACCURACY } from '../../bot/nlu/eval';

describe('held-out evaluation (npm run nlu:eval)', () => {
  it('passes: accuracy >= 0.90, danger recall 1.0 (classifier and combined), no leakage', async () => {
    const report = await evaluate({});
    expect(report.failures).toEqual([]);
    expect(report.accuracy).toBeGreaterThanOrEqual(MIN_ACCURACY);
    expect(report.danger.classifierRecall).toBe(1);
    expect(report.danger.combinedRecall).toBe(1);
    expect(report.leakage).toEqual([]);
  }, 120_000);
});
