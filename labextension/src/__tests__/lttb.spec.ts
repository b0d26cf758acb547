import { downsample, MAX_POINTS, take } from '../metrics/lttb';

/** A noisy decaying curve with a few one-point spikes. */
function series(n: number, seed = 1): { x: number[]; y: number[] } {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    x.push(i);
    y.push(2 * Math.exp(-i / (n / 4)) + 0.05 * random());
  }
  return { x, y };
}

describe('downsample (LTTB with extremes)', () => {
  it('returns every index when the series is short enough', () => {
    expect(downsample([0, 1, 2], [3, null, 5], 3)).toEqual([0, 1, 2]);
    expect(downsample([], [], 10)).toEqual([]);
    const { x, y } = series(MAX_POINTS);
    expect(downsample(x, y)).toHaveLength(MAX_POINTS);
  });

  it('keeps the first and last points and at most `threshold` points', () => {
    for (const n of [2001, 5000, 100_000]) {
      const { x, y } = series(n);
      for (const threshold of [10, 500, MAX_POINTS]) {
        const picked = downsample(x, y, threshold);
        expect(picked.length).toBeLessThanOrEqual(threshold);
        // Three per bucket at most: the budget is used, not wasted.
        expect(picked.length).toBeGreaterThan(threshold / 3);
        expect(picked[0]).toBe(0);
        expect(picked[picked.length - 1]).toBe(n - 1);
        for (let k = 1; k < picked.length; k++) {
          expect(picked[k]).toBeGreaterThan(picked[k - 1]);
        }
      }
    }
  });

  it('gives an exact count for a known case', () => {
    // 98 interior buckets of three (LTTB's pick, min, max) plus both ends;
    // a straight line makes each bucket's three picks two distinct points.
    const x = Array.from({ length: 10_000 }, (_, i) => i);
    const y = x.map(i => i * 0.5);
    const picked = downsample(x, y, 296);
    expect(picked).toHaveLength(2 + 98 * 2);
  });

  it('keeps the global extremes and one-point spikes', () => {
    const { x, y } = series(100_000);
    y[31_337] = 50; // a loss blow-up
    y[77_777] = -50;
    const picked = downsample(x, y, MAX_POINTS);
    const values = take(y, picked);
    expect(Math.max(...values)).toBe(50);
    expect(Math.min(...values)).toBe(-50);
    expect(picked).toContain(31_337);
    expect(picked).toContain(77_777);
  });

  it('keeps the shape: each kept point lies on the data', () => {
    const { x, y } = series(20_000);
    const picked = downsample(x, y, 1000);
    const sampled = take(y, picked);
    // The decay is still there, start to end.
    expect(sampled[0]).toBeGreaterThan(1.9);
    expect(sampled[sampled.length - 1]).toBeLessThan(0.1);
  });

  it('keeps gaps as gaps and never picks more than the threshold', () => {
    const { x, y } = series(50_000);
    const values: (number | null)[] = y.slice();
    for (let i = 20_000; i < 20_500; i++) {
      values[i] = null; // NaN logged for a while
    }
    values[40_000] = null; // one lone NaN
    const picked = downsample(x, values, MAX_POINTS);
    expect(picked.length).toBeLessThanOrEqual(MAX_POINTS);
    const sampled = take(values, picked);
    // A null sits where each gap was, so plotly breaks the line there.
    const nullAt = picked.filter((_, k) => sampled[k] === null);
    expect(nullAt.some(i => i >= 20_000 && i < 20_500)).toBe(true);
    expect(nullAt).toContain(40_000);
    // Nothing after the gap is drawn as if it came before it.
    const before = picked.filter(i => i < 20_000);
    const after = picked.filter(i => i >= 20_500);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
  });

  it('handles series that are mostly or entirely gaps', () => {
    const n = 10_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const allNull = new Array<number | null>(n).fill(null);
    const picked = downsample(x, allNull, 100);
    expect(picked.length).toBeLessThanOrEqual(100);
    expect(picked[0]).toBe(0);
    expect(picked[picked.length - 1]).toBe(n - 1);

    const alternating = x.map(i => (i % 2 ? null : i));
    const some = downsample(x, alternating, 100);
    expect(some.length).toBeLessThanOrEqual(100);
    expect(take(alternating, some)).toContain(n - 2);
  });

  it('takes values by index', () => {
    expect(take([10, 20, 30, 40], [0, 2, 3])).toEqual([10, 30, 40]);
  });
});
