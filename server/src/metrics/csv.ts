import type { MetricRow } from './store';

export const CSV_HEADER = 'seq,name,step,value,time,kind';

/**
 * One RFC 4180 field: quoted when it holds a comma, a quote or a line break. A text that a
 * spreadsheet would run as a formula (starting with =, +, -, @, tab or CR; a metric name is
 * the job's code's choice) gets a leading ' so it opens as text (OWASP's CSV injection rule).
 */
export function csvField(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A metric row as a CSV line (CRLF-terminated, as RFC 4180 says); an empty value is NaN/inf. */
export function csvLine(row: MetricRow): string {
  return `${row.seq},${csvField(row.name)},${row.step},${row.value ?? ''},${row.time},${row.kind}\r\n`;
}

export function toCsv(rows: Iterable<MetricRow>): string {
  let out = CSV_HEADER + '\r\n';
  for (const row of rows) out += csvLine(row);
  return out;
}
