/**
 * What the Jobs panel and the status bar say about when a job starts or ends
 * ("starts in ~4 min (2–9 min)") and where a running job is ("cell 5 of 12 ·
 * 3 min in this cell"), from the job's `eta` and `progress` (docs/protocol.md).
 */
import type { IJob } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';

const ENGLISH = nbqueueBundle();

type Range = NonNullable<NonNullable<IJob['eta']>['start']>;

/** "45 s", "4 min", "2 h", "1.5 h": rough, for estimates. */
export function roughDuration(
  seconds: number,
  trans: TranslationBundle = ENGLISH
): string {
  if (seconds < 60) {
    return trans.__('%1 s', Math.round(seconds));
  }
  if (seconds < 3600) {
    return trans.__('%1 min', Math.round(seconds / 60));
  }
  return trans.__('%1 h', Math.round((seconds / 3600) * 10) / 10);
}

/** "~4 min (2–9 min)": the median, then the range. */
export function rangeText(
  r: Range,
  trans: TranslationBundle = ENGLISH
): string {
  return trans
    .__(
      '~%1 (%2–%3)',
      roughDuration(r.seconds, trans),
      roughDuration(r.low, trans),
      roughDuration(r.high, trans)
    )
    .replace(/ (s|min|h)–(\d+(?:\.\d+)?) \1\)$/, '–$2 $1)');
}

/**
 * "starts in ~4 min (2–9 min)" for a queued job, "ends in ~12 min (5–30 min)"
 * for a running one, "start unknown" without history; empty otherwise.
 */
export function estimateText(
  job: Pick<IJob, 'state' | 'held' | 'eta'>,
  trans: TranslationBundle = ENGLISH
): string {
  const eta = job.eta;
  if (job.state === 'queued') {
    if (job.held || !eta) {
      return '';
    }
    if (!eta.start) {
      return trans.__('start unknown');
    }
    return eta.start.high < 1
      ? trans.__('starts now')
      : trans.__('starts in %1', rangeText(eta.start, trans));
  }
  if (job.state === 'running' || job.state === 'starting') {
    return eta?.end ? trans.__('ends in %1', rangeText(eta.end, trans)) : '';
  }
  return '';
}

/** "cell 5 of 12 · 3 min in this cell"; empty when not known. */
export function progressText(
  job: Pick<IJob, 'state' | 'progress'>,
  now: number,
  trans: TranslationBundle = ENGLISH
): string {
  const p = job.progress;
  if (job.state !== 'running' || !p) {
    return '';
  }
  const inCell = Math.max(0, (now - Date.parse(p.cell_started_at)) / 1000);
  return trans.__(
    'cell %1 of %2 · %3 in this cell',
    p.cell,
    p.cells,
    roughDuration(inCell, trans)
  );
}

/** The status bar's addition: the newest running job's cell, "cell 5 of 12". */
export function statusProgress(
  jobs: Pick<IJob, 'state' | 'progress' | 'started_at'>[],
  trans: TranslationBundle = ENGLISH
): string {
  const running = jobs
    .filter(j => j.state === 'running' && j.progress)
    .sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? ''));
  const p = running[0]?.progress;
  return p ? trans.__('cell %1 of %2', p.cell, p.cells) : '';
}
