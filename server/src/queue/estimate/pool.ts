/**
 * A calibrated ETA for one pool (profile): when each queued job starts and when each queued or
 * running job ends, as a point estimate (the median) and a range, from the profile's history.
 *
 * Pure: the same queue state and history give the same answer (a seeded simulation). Each of
 * SAMPLES simulated futures draws the running jobs' remaining times from the history
 * conditioned on their elapsed time (a job 10 minutes in is one of the runs that lasted longer
 * than 10 minutes), then gives the queued jobs, in admission order, the slot that frees first,
 * each holding it for a duration drawn from its owner's history (with enough of it) or the
 * profile's. The quantiles of the simulated starts and ends are the estimate. Past DEPTH queued
 * jobs the simulation stops and later jobs are extrapolated at the pool's throughput.
 * Without history there is no estimate: null and a reason, never a made-up number.
 */
import type { HistoryView } from './history';
import { MinHeap, firstAbove, quantile, seededRandom } from './quantiles';

/** The range's quantiles: chosen by the backtest (server/bench/eta-backtest.js) to cover the
 * real start at least 80 % of the time; docs/benchmarks.md, "ETA backtest". */
export const RANGE_LOW = 0.1;
export const RANGE_HIGH = 0.9;

const SAMPLES = 100;
const DEPTH = 200;
const SEED = 0x5eed;

export interface PoolInput {
  profile: string;
  capacity: number;
  /** The pool's admitted jobs (starting or running) with their elapsed seconds. */
  running: { id: string; owner: string; elapsed: number }[];
  /** The pool's ready queued jobs, in admission order. */
  queued: { id: string; owner: string }[];
  history: HistoryView;
}

/** Seconds from now: the median, and the range's low and high quantiles. */
export interface Range {
  seconds: number;
  low: number;
  high: number;
}

export interface JobEstimate {
  /** When a queued job starts; null for a running job or without history. */
  start: Range | null;
  /** When the job ends; null without history. */
  end: Range | null;
  basis: string;
}

export function estimatePool(input: PoolInput): Map<string, JobEstimate> {
  const out = new Map<string, JobEstimate>();
  const { history, profile } = input;
  const all = history.all;
  if (!all.length) {
    const basis = `unknown: no finished jobs on profile ${profile} yet`;
    for (const j of [...input.running, ...input.queued])
      out.set(j.id, { start: null, end: null, basis });
    return out;
  }
  const durations = (owner: string) => history.user(owner) ?? all;
  const basisOf = (owner: string) => {
    const own = history.user(owner);
    return own
      ? `simulated from ${owner}'s last ${own.length} ${profile} jobs and the running jobs' elapsed times`
      : `simulated from the last ${all.length} ${profile} job${all.length === 1 ? '' : 's'} and the running jobs' elapsed times`;
  };
  // Each simulated future has its own seed, so one more job at the end of the queue leaves
  // every estimate before it as it was.
  let random = seededRandom(SEED);
  // A smoothed bootstrap: each drawn run is jittered on the log scale by Silverman's bandwidth,
  // so a short history (3 runs) does not pretend every future run is one of those 3.
  const bandwidths = new Map<readonly number[], number>();
  const bandwidth = (values: readonly number[]) => {
    let h = bandwidths.get(values);
    if (h === undefined) {
      h = logBandwidth(values);
      bandwidths.set(values, h);
    }
    return h;
  };
  const draw = (values: readonly number[]) => {
    const v = values[Math.floor(random() * values.length)];
    const u = 1 - random();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return v * Math.exp(bandwidth(values) * z);
  };
  const remaining = (values: readonly number[], elapsed: number) => {
    const from = firstAbove(values, elapsed);
    // A job past every run on record is assumed halfway, on average, through its run.
    if (from === values.length) return elapsed * random();
    return (
      values[from + Math.floor(random() * (values.length - from))] - elapsed
    );
  };

  const simulated = input.queued.slice(0, DEPTH);
  const starts = simulated.map(() => new Float64Array(SAMPLES));
  const queuedEnds = simulated.map(() => new Float64Array(SAMPLES));
  const runningEnds = input.running.map(() => new Float64Array(SAMPLES));
  // Slots beyond capacity (over-committed, a capacity lowered) free without a job taking them.
  const surplus = Math.max(0, input.running.length - input.capacity);
  const freeNow = Math.max(0, input.capacity - input.running.length);
  for (let s = 0; s < SAMPLES; s++) {
    random = seededRandom(SEED + s);
    const ends: number[] = [];
    input.running.forEach((j, i) => {
      const end = remaining(durations(j.owner), Math.max(0, j.elapsed));
      runningEnds[i][s] = end;
      ends.push(end);
    });
    ends.sort((a, b) => a - b);
    const slots = new MinHeap();
    for (const end of ends.slice(surplus)) slots.push(end);
    for (let f = 0; f < freeNow; f++) slots.push(0);
    simulated.forEach((j, k) => {
      const start = slots.pop();
      const end = start + draw(durations(j.owner));
      starts[k][s] = start;
      queuedEnds[k][s] = end;
      slots.push(end);
    });
  }

  input.running.forEach((j, i) =>
    out.set(j.id, {
      start: null,
      end: range(runningEnds[i]),
      basis: basisOf(j.owner)
    })
  );
  simulated.forEach((j, k) =>
    out.set(j.id, {
      start: range(starts[k]),
      end: range(queuedEnds[k]),
      basis: basisOf(j.owner)
    })
  );
  const last = simulated.length - 1;
  if (input.queued.length > simulated.length) {
    // Deeper jobs: n more jobs over `capacity` slots take n/capacity durations each, whose sum
    // spreads as sqrt(n/capacity) standard deviations.
    const lastStart = out.get(simulated[last].id)?.start as Range;
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const sd = Math.sqrt(
      all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length
    );
    const zLow = normalQuantile(RANGE_LOW);
    const zHigh = normalQuantile(RANGE_HIGH);
    for (let k = simulated.length; k < input.queued.length; k++) {
      const j = input.queued[k];
      const perSlot = (k - last) / input.capacity;
      const shift = perSlot * mean;
      const spread = Math.sqrt(perSlot) * sd;
      const start = {
        seconds: round(lastStart.seconds + shift),
        low: round(Math.max(0, lastStart.low + shift + zLow * spread)),
        high: round(lastStart.high + shift + zHigh * spread)
      };
      const end = {
        seconds: round(start.seconds + mean),
        low: round(start.low + quantile(all, RANGE_LOW)),
        high: round(start.high + quantile(all, RANGE_HIGH))
      };
      out.set(j.id, {
        start,
        end,
        basis: `${basisOf(j.owner)}, extrapolated past the first ${DEPTH} queued`
      });
    }
  }
  return out;
}

function range(samples: Float64Array): Range {
  samples.sort();
  return {
    seconds: round(quantile(samples, 0.5)),
    low: round(quantile(samples, RANGE_LOW)),
    high: round(quantile(samples, RANGE_HIGH))
  };
}

/** Silverman's rule on log durations, at least 0.1 (10 %), more the fewer runs there are. */
function logBandwidth(values: readonly number[]): number {
  const logs = values.map(v => Math.log(Math.max(v, 1)));
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(
    logs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, logs.length - 1)
  );
  return Math.max(0.1, sd) * 1.06 * logs.length ** -0.2;
}

function round(seconds: number): number {
  return Math.max(0, Math.round(seconds));
}

/** The standard normal's q-quantile (Tukey's lambda approximation, within 1 % here). */
function normalQuantile(q: number): number {
  return 4.91 * (q ** 0.14 - (1 - q) ** 0.14);
}
