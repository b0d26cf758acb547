import type { IMetricSeries } from './types';

/**
 * All points of the series as CSV (RFC 4180): `name,step,value,time`, with a
 * leading `job` column when any series belongs to a job. A gap (NaN or an
 * infinity) has an empty value; time is epoch milliseconds.
 */
export function toCsv(series: readonly IMetricSeries[]): string {
  const withJob = series.some(s => s.job !== undefined);
  const header = withJob ? 'job,name,step,value,time' : 'name,step,value,time';
  const lines = [header];
  for (const s of series) {
    const prefix = withJob
      ? `${field(s.job ?? '')},${field(s.name)}`
      : field(s.name);
    for (let i = 0; i < s.values.length; i++) {
      const value = s.values[i];
      const time = s.times[i];
      lines.push(
        `${prefix},${number(s.steps[i])},${value === null ? '' : number(value)},${
          time === undefined ? '' : number(time)
        }`
      );
    }
  }
  return lines.join('\r\n') + '\r\n';
}

function number(value: number): string {
  return Number.isFinite(value) ? String(value) : '';
}

/**
 * A text field, quoted when it holds a comma, quote or line break; one a spreadsheet would
 * run as a formula (=, +, -, @, tab, CR first) starts with ' so it opens as text.
 */
function field(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
