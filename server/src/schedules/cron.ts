/**
 * Cron expressions in a time zone: checked, stepped through and described for a person.
 * croner does the calendar arithmetic (time zones, DST); this file only says what nbqueue
 * accepts (five fields, no seconds, an IANA zone) and how it reads.
 */
import { Cron } from 'croner';
import { badRequest } from '../errors';

/** The zone, if the runtime knows it; a 400 invalid_timezone naming the field otherwise. */
export function checkTimezone(timezone: string, field = 'timezone'): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return timezone;
  } catch {
    throw badRequest(
      'invalid_timezone',
      `"${field}": '${timezone}' is not a known IANA time zone; use a name such as UTC or Europe/Berlin.`
    );
  }
}

/** A parsed cron: 400 invalid_cron naming the field and what is wrong. */
export function parseCron(
  expr: string,
  timezone: string,
  field = 'cron'
): Cron {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 || expr.trim() === '')
    throw badRequest(
      'invalid_cron',
      `"${field}": '${expr}' has ${expr.trim() ? fields.length : 0} fields; a schedule takes 5 (minute hour day-of-month month day-of-week), e.g. "0 3 * * *".`
    );
  let cron: Cron;
  try {
    // paused: a Cron made only to compute times never starts a timer of its own. legacyMode
    // (the default) keeps classic cron's reading: day-of-month OR day-of-week when both are set.
    cron = new Cron(fields.join(' '), {
      timezone,
      paused: true,
      mode: '5-part'
    });
  } catch (err) {
    throw badRequest(
      'invalid_cron',
      `"${field}": '${expr}' is not a valid cron expression: ${(err as Error).message}.`
    );
  }
  if (!cron.nextRun(new Date()))
    throw badRequest(
      'invalid_cron',
      `"${field}": '${expr}' never fires (no such date).`
    );
  return cron;
}

/** The first firing time strictly after `after`, or null if there is none. */
export function nextRun(cron: Cron, after: Date): Date | null {
  return cron.nextRun(after);
}

/** The next `n` firing times after `after`. */
export function nextRuns(cron: Cron, after: Date, n: number): Date[] {
  const out: Date[] = [];
  let at: Date | null = after;
  while (out.length < n && (at = cron.nextRun(at))) out.push(at);
  return out;
}

/** The wall-clock fields of `at` in `timezone`. */
function wallClock(at: Date, timezone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit'
  }).formatToParts(at);
  const get = (type: string) => parts.find(p => p.type === type)?.value ?? '00';
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second')
  };
}

/** YYYY-MM-DD of `at` in `timezone` (the `{{ date }}` parameter). */
export function localDate(at: Date, timezone: string): string {
  const w = wallClock(at, timezone);
  return `${w.year}-${w.month}-${w.day}`;
}

/** ISO 8601 of `at` in `timezone` with its offset, e.g. 2026-03-29T03:30:00+02:00. */
export function localDateTime(at: Date, timezone: string): string {
  const w = wallClock(at, timezone);
  const asUtc = Date.UTC(
    Number(w.year),
    Number(w.month) - 1,
    Number(w.day),
    Number(w.hour),
    Number(w.minute),
    Number(w.second)
  );
  const offset = Math.round(
    (asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60000
  );
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${w.month}-${w.day}T${w.hour}:${w.minute}:${w.second}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const DAYS = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday'
];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const isNumber = (s: string) => /^\d{1,2}$/.test(s);
const pad2 = (s: string) => s.padStart(2, '0');

/**
 * The common shapes in words ("every day at 03:00 Europe/Berlin"); anything else reads
 * "cron <expr> (<zone>)".
 */
export function describeCron(expr: string, timezone: string): string {
  const [minute, hour, dom, month, dow] = expr.trim().split(/\s+/);
  const tz = ` ${timezone}`;
  const every = /^\*\/(\d+)$/;
  if (hour === '*' && dom === '*' && month === '*' && dow === '*') {
    if (minute === '*') return `every minute${tz}`;
    const step = every.exec(minute);
    if (step) return `every ${step[1]} minutes${tz}`;
    if (isNumber(minute)) return `every hour at :${pad2(minute)}${tz}`;
  }
  if (isNumber(minute) && isNumber(hour) && month === '*') {
    const at = `at ${pad2(hour)}:${pad2(minute)}${tz}`;
    if (dom === '*' && dow === '*') return `every day ${at}`;
    if (dom === '*' && /^(1-5|mon-fri)$/i.test(dow)) return `weekdays ${at}`;
    if (dom === '*') {
      const n = isNumber(dow)
        ? Number(dow)
        : DAY_NAMES.indexOf(dow.toLowerCase());
      if (n >= 0 && n <= 7) return `every ${DAYS[n]} ${at}`;
    }
    if (dow === '*' && isNumber(dom))
      return `on day ${Number(dom)} of every month ${at}`;
  }
  return `cron ${expr.trim()} (${timezone})`;
}
