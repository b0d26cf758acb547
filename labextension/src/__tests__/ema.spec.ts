import { DEFAULT_SMOOTHING, ema, Ema } from '../metrics/ema';

describe('ema (TensorBoard smoothing)', () => {
  it('defaults to the weight TensorBoard uses', () => {
    expect(DEFAULT_SMOOTHING).toBe(0.6);
  });

  it('is debiased: the first value is itself, a constant stays constant', () => {
    expect(ema([5])).toEqual([5]);
    // Exactly: a y axis would otherwise zoom in on rounding errors.
    expect(ema([0.1, 0.1, null, 0.1, 0.1], 0.6)).toEqual([
      0.1,
      0.1,
      null,
      0.1,
      0.1
    ]);
  });

  it('matches the formula', () => {
    const w = 0.6;
    const [a, b, c] = [1, 2, 4];
    const last1 = (1 - w) * a;
    const last2 = last1 * w + (1 - w) * b;
    const last3 = last2 * w + (1 - w) * c;
    const out = ema([a, b, c], w);
    expect(out[0]).toBeCloseTo(last1 / (1 - w), 12);
    expect(out[1]).toBeCloseTo(last2 / (1 - w ** 2), 12);
    expect(out[2]).toBeCloseTo(last3 / (1 - w ** 3), 12);
  });

  it('leaves values as they are with weight 0', () => {
    expect(ema([1, 5, null, 2], 0)).toEqual([1, 5, null, 2]);
  });

  it('keeps gaps without resetting the average', () => {
    const withGap = ema([1, 2, null, 4], 0.5);
    const withoutGap = ema([1, 2, 4], 0.5);
    expect(withGap[2]).toBeNull();
    expect(withGap[3]).toBeCloseTo(withoutGap[2] as number, 12);
  });

  it('extends point by point exactly as smoothing all at once', () => {
    const values = Array.from({ length: 100 }, (_, i) =>
      i % 17 === 0 ? null : Math.sin(i)
    );
    const smoother = new Ema(0.8);
    smoother.extend(values.slice(0, 10));
    smoother.extend(values.slice(10, 11));
    smoother.extend(values.slice(11));
    expect(smoother.values).toEqual(ema(values, 0.8));
  });

  it('refuses weights outside [0, 1)', () => {
    expect(() => new Ema(1)).toThrow(RangeError);
    expect(() => new Ema(-0.1)).toThrow(RangeError);
  });
});
