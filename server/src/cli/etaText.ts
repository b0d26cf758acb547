/** The ETA and PROGRESS cells of `nbqueue jobs`: estimates as ranges, the running code cell. */
import type { api } from '@nbqueue/common';

type Job = api.Job;
type Range = NonNullable<NonNullable<Job['eta']>['start']>;

function unit(seconds: number): 's' | 'min' | 'h' {
  return seconds < 60 ? 's' : seconds < 3600 ? 'min' : 'h';
}

function amount(seconds: number, u: 's' | 'min' | 'h'): string {
  if (u === 's') return String(Math.round(seconds));
  if (u === 'min') return String(Math.round(seconds / 60));
  const hours = Math.round((seconds / 3600) * 10) / 10;
  return String(hours);
}

/** `4 min (2-9 min)`, `50 s (20 s-2 min)`: the median and the range, in the range's units. */
export function rangeText(r: Range): string {
  const one = (s: number) => `${amount(s, unit(s))} ${unit(s)}`;
  const lowUnit = unit(r.low);
  const highUnit = unit(r.high);
  const span =
    lowUnit === highUnit
      ? `${amount(r.low, lowUnit)}-${amount(r.high, highUnit)} ${highUnit}`
      : `${one(r.low)}-${one(r.high)}`;
  return `${one(r.seconds)} (${span})`;
}

/** Queued: when it starts; admitted: when it ends; `unknown` without history. */
export function etaCell(j: Job): string {
  if (j.state === 'queued') {
    if (j.held) return 'held';
    return j.eta?.start ? rangeText(j.eta.start) : 'unknown';
  }
  if (j.state === 'starting' || j.state === 'running')
    return j.eta?.end ? `ends ${rangeText(j.eta.end)}` : 'unknown';
  return '';
}

/** `5/12, 3 min`: the running code cell of how many, and how long it has run. */
export function progressCell(j: Job, now: number): string {
  const p = j.progress;
  if (!p) return '';
  const inCell = Math.max(0, (now - Date.parse(p.cell_started_at)) / 1000);
  const u = unit(inCell);
  return `${p.cell}/${p.cells}, ${amount(inCell, u)} ${u}`;
}
