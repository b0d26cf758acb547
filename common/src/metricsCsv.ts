/**
 * The one CSV format of metric points (docs/protocol.md, "Metrics"), written by the sidecar's
 * `GET /api/jobs/:id/metrics.csv` and by the chart's CSV button alike:
 *
 *     job,seq,name,step,value,time,kind
 *
 * RFC 4180 (CRLF line ends, fields quoted when needed). `job` is empty for points logged in an
 * interactive kernel, `seq` (the sidecar's cursor, for `?since=`) is empty where the points did
 * not come from the sidecar, an empty `value` is NaN or an infinity, `time` is epoch
 * milliseconds, `kind` is `user` or `system`.
 */
export const METRICS_CSV_HEADER = 'job,seq,name,step,value,time,kind';

export interface MetricCsvPoint {
  job?: string;
  seq?: number;
  name: string;
  step: number;
  /** null: NaN or an infinity. */
  value: number | null;
  time?: number;
  /** Defaults from the name: `system/...` points are the runner's own measurements. */
  kind?: 'user' | 'system';
}

/**
 * One RFC 4180 field: quoted when it holds a comma, a quote or a line break. A text that a
 * spreadsheet would run as a formula (starting with =, +, -, @, tab or CR; a metric name is the
 * job's code's choice) gets a leading ' so it opens as text (OWASP's CSV injection rule).
 */
export function csvField(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function number(value: number | null | undefined): string {
  return value !== null && value !== undefined && Number.isFinite(value)
    ? String(value)
    : '';
}

/** One point as a CSV line, CRLF-terminated. */
export function metricsCsvLine(point: MetricCsvPoint): string {
  const kind =
    point.kind ?? (point.name.startsWith('system/') ? 'system' : 'user');
  return (
    `${csvField(point.job ?? '')},${number(point.seq)},${csvField(point.name)},` +
    `${number(point.step)},${number(point.value)},${number(point.time)},${kind}\r\n`
  );
}

/** The header and every point. */
export function metricsCsv(points: Iterable<MetricCsvPoint>): string {
  let out = METRICS_CSV_HEADER + '\r\n';
  for (const point of points) out += metricsCsvLine(point);
  return out;
}
