/**
 * Logged metrics (REST rows or live `metric` events) as the points a
 * `MetricsChart` takes, one entry per metric name, in arrival order.
 */
import type { JobEvent } from '../service/events';
import type { IMetricRow, MetricKind } from '../service/model';
import type { IMetricPoints } from '../metrics/types';

export type { MetricKind };

/** The kind of a metric: events written before kinds existed are "user". */
export function kindOf(point: { kind?: unknown; name: string }): MetricKind {
  if (point.kind === 'system' || point.kind === 'user') {
    return point.kind;
  }
  return point.name.startsWith('system/') ? 'system' : 'user';
}

/** The metric rows of the live events, with `seq > after`. */
export function metricRowsOf(events: JobEvent[], after: number): IMetricRow[] {
  const rows: IMetricRow[] = [];
  for (const event of events) {
    if (event.type !== 'metric' || event.seq <= after) {
      continue;
    }
    rows.push({
      seq: event.seq,
      name: event.name,
      step: event.step,
      value: event.value,
      time: event.time,
      kind: kindOf(event)
    });
  }
  return rows;
}

/**
 * Group rows by name into points; with `job`, each series belongs to that job
 * (for the comparison view) and its legend says which.
 */
export function pointsOf(
  rows: readonly IMetricRow[],
  job?: { id: string; name: string }
): IMetricPoints[] {
  const byName = new Map<string, IMetricPoints>();
  for (const row of rows) {
    let points = byName.get(row.name);
    if (!points) {
      points = { name: row.name, steps: [], values: [], times: [] };
      if (job) {
        points.job = job.id;
        points.label = `${job.name} · ${row.name}`;
      }
      byName.set(row.name, points);
    }
    points.steps.push(row.step);
    points.values.push(row.value);
    points.times.push(row.time);
  }
  return [...byName.values()];
}
