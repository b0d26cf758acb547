import { estimateStarts, median } from '../src/queue/eta';

describe('queue ETA', () => {
  test('unknown without history, never a made-up number', () => {
    const eta = estimateStarts('gpu-1', {
      capacity: 1,
      runningElapsed: [10],
      order: ['a', 'b'],
      history: []
    });
    expect(eta.get('a')).toEqual({
      seconds: null,
      basis: 'unknown: no finished jobs on profile gpu-1 yet'
    });
    expect(eta.get('b')?.seconds).toBeNull();
  });

  test('slots free as running jobs reach the typical duration, then queued jobs follow', () => {
    // Typical 100 s; one slot, busy for 30 s so far: next starts in 70 s, the one after in 170 s.
    const eta = estimateStarts('gpu-1', {
      capacity: 1,
      runningElapsed: [30],
      order: ['a', 'b'],
      history: [90, 100, 110]
    });
    expect(eta.get('a')?.seconds).toBe(70);
    expect(eta.get('b')?.seconds).toBe(170);
    expect(eta.get('a')?.basis).toMatch(
      /median of 3 past gpu-1 jobs \(100 s\)/
    );
  });

  test('a free slot means now; a job past its typical time still counts a floor', () => {
    const eta = estimateStarts('cpu', {
      capacity: 2,
      runningElapsed: [500],
      order: ['a', 'b', 'c'],
      history: [100]
    });
    expect(eta.get('a')?.seconds).toBe(0);
    expect(eta.get('b')?.seconds).toBe(5);
    expect(eta.get('c')?.seconds).toBe(100);
  });

  test('median', () => {
    expect(median([])).toBeUndefined();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
