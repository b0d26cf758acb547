import { metricsCsv } from '@nbqueue/common';
import type { MetricRow } from './store';

/** A job's stored points in the one metrics CSV format (@nbqueue/common, docs/protocol.md). */
export function toCsv(job: string, rows: Iterable<MetricRow>): string {
  return metricsCsv(points(job, rows));
}

function* points(job: string, rows: Iterable<MetricRow>) {
  for (const row of rows) yield { job, ...row };
}
