/**
 * The Kubernetes backend's limit on its own API calls (ratelimit.ts): a token bucket of
 * `burst` calls at once, then `qps` a second, in arrival order; and its settings' validation.
 */
import { TokenBucket } from '../src/backends/kubernetes/ratelimit';
import { parseConfig } from '../src/config/load';

describe('token bucket', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  test('a burst goes at once, the rest at qps, in arrival order', async () => {
    const bucket = new TokenBucket(10, 3);
    const went: number[] = [];
    const calls = Array.from({ length: 7 }, (_, i) =>
      bucket.run(async () => {
        went.push(i);
        return i;
      })
    );
    await jest.advanceTimersByTimeAsync(0);
    expect(went).toEqual([0, 1, 2]);
    // 10 a second: one every 100 ms.
    await jest.advanceTimersByTimeAsync(100);
    expect(went).toEqual([0, 1, 2, 3]);
    await jest.advanceTimersByTimeAsync(300);
    expect(went).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  test('a quiet spell refills it up to the burst, no more', async () => {
    const bucket = new TokenBucket(10, 2);
    const went: number[] = [];
    const take = (i: number) => void bucket.take().then(() => went.push(i));
    take(0);
    take(1);
    await jest.advanceTimersByTimeAsync(10_000);
    [2, 3, 4].forEach(take);
    await jest.advanceTimersByTimeAsync(0);
    expect(went).toEqual([0, 1, 2, 3]);
    await jest.advanceTimersByTimeAsync(100);
    expect(went).toEqual([0, 1, 2, 3, 4]);
  });
});

test('api_qps and api_burst: defaults, and what is refused', () => {
  const k8s = (kubernetes: object) =>
    parseConfig({ backend: { type: 'kubernetes', kubernetes } }).backend
      .kubernetes;
  expect(k8s({})).toMatchObject({ api_qps: 100, api_burst: 200 });
  expect(k8s({ api_qps: 2.5, api_burst: 1 })).toMatchObject({
    api_qps: 2.5,
    api_burst: 1
  });
  expect(() => k8s({ api_qps: 0 })).toThrow(/api_qps/);
  expect(() => k8s({ api_burst: 0.5 })).toThrow(/api_burst/);
});
