/**
 * Feeds the start calibration (queue/estimate/calibration.ts) from the live queue: the first
 * start range predicted for each queued job is remembered, and once the job has left the queue
 * its real wait is scored against it. Jobs that leave without starting (cancelled, held) are
 * dropped unscored. Memory: one entry per queued job.
 */
import type { Range } from '../queue/estimate/pool';
import { StartCalibration } from '../queue/estimate/calibration';
import type { JobRecord } from './types';

interface Predicted {
  profile: string;
  range: Range;
  /** When it was predicted (epoch ms). */
  at: number;
}

export class StartTracker {
  private readonly predicted = new Map<string, Predicted>();

  constructor(readonly calibration: StartCalibration) {}

  /** A queued job's raw start range now; answers the calibrated range. */
  predict(profile: string, id: string, raw: Range, now: number): Range {
    if (!this.predicted.has(id))
      this.predicted.set(id, { profile, range: raw, at: now });
    return this.calibration.adjust(profile, raw);
  }

  /**
   * Scores the jobs of `profile` (every profile when undefined) that are no longer among the
   * queued ones: those that started, against their first prediction.
   */
  settle(
    profile: string | undefined,
    queued: ReadonlySet<string>,
    getJob: (id: string) => JobRecord | undefined
  ): void {
    for (const [id, p] of this.predicted) {
      if ((profile !== undefined && p.profile !== profile) || queued.has(id))
        continue;
      this.predicted.delete(id);
      const job = getJob(id);
      if (job?.state === 'queued' || !job?.started_at) continue;
      const waited = (Date.parse(job.started_at) - p.at) / 1000;
      if (waited >= 0) this.calibration.observe(p.profile, p.range, waited);
    }
  }
}
