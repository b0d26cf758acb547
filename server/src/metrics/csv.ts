import type { MetricRow } from './store';

export const CSV_HEADER = 'seq,name,step,value,time,kind';

/** One RFC 4180 field: quoted when it holds a comma, a quote or a line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
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
