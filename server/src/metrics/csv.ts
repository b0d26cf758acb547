import {
  METRICS_CSV_HEADER,
  metricsCsv,
  metricsCsvLine
} from '@nbqueue/common';
import type { Writable } from 'stream';
import { setImmediate as nextTurn } from 'timers/promises';
import type { MetricRow } from './store';

/** Points read, formatted and written at a time by writeCsv. */
export const CSV_PAGE = 5000;

/** A job's stored points in the one metrics CSV format (@nbqueue/common, docs/protocol.md). */
export function toCsv(job: string, rows: Iterable<MetricRow>): string {
  return metricsCsv(points(job, rows));
}

function* points(job: string, rows: Iterable<MetricRow>) {
  for (const row of rows) yield { job, ...row };
}

/**
 * Writes the same CSV as toCsv to `out` a page at a time (`page(since)`: up to CSV_PAGE points
 * after seq `since`), waiting for `out` to drain and for the event loop between pages, so a
 * long series never sits in memory whole nor holds the sidecar up. Stops when `out` closes.
 */
export async function writeCsv(
  out: Writable,
  job: string,
  since: number,
  page: (since: number) => MetricRow[]
): Promise<void> {
  let cursor = since;
  let chunk = METRICS_CSV_HEADER + '\r\n';
  for (;;) {
    const rows = page(cursor);
    for (const row of rows) chunk += metricsCsvLine({ job, ...row });
    if (out.destroyed) return;
    if (!out.write(chunk) && !(await drained(out))) return;
    chunk = '';
    if (rows.length < CSV_PAGE) break;
    cursor = rows[rows.length - 1].seq;
    await nextTurn();
  }
  out.end();
}

/** Resolves true once `out` drained, false if it closed first. */
export function drained(out: Writable): Promise<boolean> {
  return new Promise(resolve => {
    const settle = (open: boolean) => () => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      resolve(open);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    out.on('drain', onDrain);
    out.on('close', onClose);
  });
}
