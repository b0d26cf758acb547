/** The firing time in a job's parameters: "{{ date }}" and "{{ datetime }}", also inside longer strings. */
import { localDate, localDateTime } from './cron';

const DATE = /\{\{\s*date\s*\}\}/g;
const DATETIME = /\{\{\s*datetime\s*\}\}/g;

/** `value` with every template in its strings (at any depth) replaced by the firing time. */
export function fillTemplates(
  value: unknown,
  at: Date,
  timezone: string
): unknown {
  if (typeof value === 'string')
    return value
      .replace(DATETIME, () => localDateTime(at, timezone))
      .replace(DATE, () => localDate(at, timezone));
  if (Array.isArray(value))
    return value.map(v => fillTemplates(v, at, timezone));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, fillTemplates(v, at, timezone)])
    );
  return value;
}
