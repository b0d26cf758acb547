/**
 * The Jobs panel's and status bar's estimate and progress texts (panel/estimates.ts).
 */
import {
  estimateText,
  progressText,
  rangeText,
  statusProgress
} from '../panel/estimates';

const range = (seconds: number, low: number, high: number) => ({
  seconds,
  low,
  high
});

describe('estimates', () => {
  test('a queued job: "starts in ~4 min (2–9 min)"', () => {
    const eta = {
      start: range(240, 120, 540),
      end: range(900, 500, 2000),
      basis: 'simulated'
    };
    expect(estimateText({ state: 'queued', held: false, eta })).toBe(
      'starts in ~4 min (2–9 min)'
    );
    expect(
      estimateText({
        state: 'queued',
        held: false,
        eta: { ...eta, start: range(0, 0, 0) }
      })
    ).toBe('starts now');
  });

  test('units differ across the range; seconds and hours', () => {
    expect(rangeText(range(50, 20, 150))).toBe('~50 s (20 s–3 min)');
    expect(rangeText(range(5400, 3600, 9000))).toBe('~1.5 h (1–2.5 h)');
  });

  test('unknown without history, nothing for held or finished jobs', () => {
    const unknown = { start: null, end: null, basis: 'unknown: no finished' };
    expect(estimateText({ state: 'queued', held: false, eta: unknown })).toBe(
      'start unknown'
    );
    expect(estimateText({ state: 'queued', held: true, eta: null })).toBe('');
    expect(estimateText({ state: 'succeeded', held: false, eta: null })).toBe(
      ''
    );
  });

  test('a running job: when it ends, and its cell', () => {
    const eta = { start: null, end: range(720, 300, 1800), basis: 'x' };
    expect(estimateText({ state: 'running', held: false, eta })).toBe(
      'ends in ~12 min (5–30 min)'
    );
    const progress = {
      cell: 5,
      cells: 12,
      cell_started_at: '2026-01-01T00:00:00.000Z'
    };
    const now = Date.parse('2026-01-01T00:03:00.000Z');
    expect(progressText({ state: 'running', progress }, now)).toBe(
      'cell 5 of 12 · 3 min in this cell'
    );
    expect(progressText({ state: 'succeeded', progress }, now)).toBe('');
    expect(progressText({ state: 'running', progress: null }, now)).toBe('');
  });

  test("the status bar names the newest running job's cell", () => {
    const at = (cell: number) => ({
      cell,
      cells: 9,
      cell_started_at: '2026-01-01T00:00:00.000Z'
    });
    expect(
      statusProgress([
        {
          state: 'running',
          progress: at(2),
          started_at: '2026-01-01T00:00:00Z'
        },
        {
          state: 'running',
          progress: at(7),
          started_at: '2026-01-01T01:00:00Z'
        },
        { state: 'queued', progress: null, started_at: null }
      ])
    ).toBe('cell 7 of 9');
    expect(statusProgress([])).toBe('');
  });
});
