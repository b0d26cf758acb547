/**
 * Calibrating the start estimate against what happened: conformalized quantile regression
 * (Romano et al., 2019) on a log scale. The simulation knows the queue as it is, not the jobs
 * that arrive later and go first (fair share, priorities), so its ranges alone are too narrow.
 * Each job's first predicted start range is compared with its real start once admitted; the
 * score is how far (log scale) the real start fell outside the range (negative inside). A new
 * range is widened (or narrowed) by the `coverage` quantile of the recent scores, so that share
 * of real starts falls inside. Until `minScores` starts are seen the ranges are the
 * simulation's own.
 */
import type { Range } from './pool';
import { quantile } from './quantiles';

/** Seconds added before taking logs, so "now" (0 s) and 20 s are not infinitely apart. */
const OFFSET = 30;

export interface CalibrationOptions {
  /** How many recent starts of a profile are kept. */
  window: number;
  /** Starts needed before the ranges are adjusted. */
  minScores: number;
  /** The share of real starts the range should cover. */
  coverage: number;
}

class Recent {
  readonly values: number[] = [];
  constructor(private readonly window: number) {}
  add(v: number): void {
    this.values.push(v);
    if (this.values.length > this.window) this.values.shift();
  }
  sorted(): number[] {
    return [...this.values].sort((a, b) => a - b);
  }
}

interface ProfileScores {
  scores: Recent;
  /** The adjustment, made again only when a new start is seen. */
  cached?: number;
}

const log = (seconds: number) => Math.log(Math.max(0, seconds) + OFFSET);

export class StartCalibration {
  private readonly profiles = new Map<string, ProfileScores>();

  constructor(private readonly options: CalibrationOptions) {}

  /** A job predicted to start within `predicted` (raw) started `realSeconds` after. */
  observe(profile: string, predicted: Range, realSeconds: number): void {
    let p = this.profiles.get(profile);
    if (!p) {
      p = {
        scores: new Recent(this.options.window)
      };
      this.profiles.set(profile, p);
    }
    const real = log(realSeconds);
    p.scores.add(
      Math.max(log(predicted.low) - real, real - log(predicted.high))
    );
    p.cached = undefined;
  }

  /** How many starts of the profile the calibration has seen (in its window). */
  seen(profile: string): number {
    return this.profiles.get(profile)?.scores.values.length ?? 0;
  }

  /** The raw range, calibrated; the raw range itself until enough starts are seen. */
  adjust(profile: string, raw: Range): Range {
    const p = this.profiles.get(profile);
    if (!p || p.scores.values.length < this.options.minScores) return raw;
    if (p.cached === undefined) {
      const n = p.scores.values.length;
      // The finite-sample conformal quantile: ceil((n + 1) * coverage) / n.
      const q = Math.min(1, Math.ceil((n + 1) * this.options.coverage) / n);
      p.cached = quantile(p.scores.sorted(), q);
    }
    const widen = p.cached;
    const at = (logSeconds: number) =>
      Math.max(0, Math.round(Math.exp(logSeconds) - OFFSET));
    const low = at(log(raw.low) - widen);
    const high = Math.max(low, at(log(raw.high) + widen));
    // The point stays the simulation's median (scaling it by the typical ratio made the
    // backtest's median error worse), kept inside the range.
    const seconds = Math.min(high, Math.max(low, raw.seconds));
    return { seconds, low, high };
  }
}
