/** What a notification says: the job, how it ended, how long it took, why, and a link. */
import type { JobRecord } from '../jobs/types';

export interface JobEnd {
  job: Pick<
    JobRecord,
    | 'id'
    | 'name'
    | 'state'
    | 'reason'
    | 'created_at'
    | 'started_at'
    | 'finished_at'
    | 'has_result'
  >;
  /** Where links start, e.g. https://hub.example.com/services/nbqueue. */
  linkBase: string;
}

/** "1 h 02 min", "3 min 12 s", "8 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600)
    return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]+/g;

/** One line, no control characters: a job name or reason put into a header or a chat line. */
const line = (text: string, max: number) =>
  text.replace(CONTROL, ' ').trim().slice(0, max);

export function fields({ job, linkBase }: JobEnd) {
  const ran = job.started_at
    ? `ran ${duration((Date.parse(job.finished_at ?? '') - Date.parse(job.started_at)) / 1000)}`
    : `never started (ended ${duration((Date.parse(job.finished_at ?? '') - Date.parse(job.created_at)) / 1000)} after it was submitted)`;
  const base = linkBase.replace(/\/+$/, '');
  const link = job.has_result
    ? `${base}/api/jobs/${encodeURIComponent(job.id)}/result`
    : `${base}/api/jobs/${encodeURIComponent(job.id)}`;
  return {
    name: line(job.name, 200),
    state: job.state,
    duration: ran,
    reason: job.reason ? line(job.reason, 1000) : null,
    link
  };
}

export function mailOf(end: JobEnd): { subject: string; text: string } {
  const f = fields(end);
  return {
    subject: `[nbqueue] Job ${f.name} ${f.state}`,
    text: [
      `Job: ${f.name} (${end.job.id})`,
      `State: ${f.state}`,
      `Duration: ${f.duration}`,
      ...(f.reason ? [`Reason: ${f.reason}`] : []),
      `${end.job.has_result ? 'Result' : 'Job'}: ${f.link}`,
      '',
      'You get this because you asked nbqueue to notify you (nbqueue notify --off stops it).'
    ].join('\n')
  };
}

/** Slack's mrkdwn (and Teams) treat <, > and & as markup: they are escaped. */
const chat = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function webhookOf(end: JobEnd): { text: string } {
  const f = fields(end);
  return {
    text: [
      `nbqueue: job "${chat(f.name)}" ${f.state} (${f.duration}).`,
      ...(f.reason ? [`Reason: ${chat(f.reason)}`] : []),
      `${end.job.has_result ? 'Result' : 'Job'}: ${f.link}`
    ].join('\n')
  };
}
