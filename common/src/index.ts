/**
 * What the sidecar, the CLI and the JupyterLab extension share, written once. Plain functions
 * with no Node or DOM dependency, compiled to CommonJS so both the server and the labextension's
 * webpack build can load them.
 */
export { humanBytes } from './bytes';
export { defaultJobName } from './jobName';
export {
  csvField,
  METRICS_CSV_HEADER,
  metricsCsv,
  metricsCsvLine
} from './metricsCsv';
export type { MetricCsvPoint } from './metricsCsv';
