/** Cron in a time zone: what is accepted, how it reads, the template parameters. */
import { ApiError } from '../src/errors';
import {
  checkTimezone,
  describeCron,
  localDateTime,
  nextRuns,
  parseCron
} from '../src/schedules/cron';
import { fillTemplates } from '../src/schedules/templates';

test.each([
  ['* * * * *', 'UTC', 'every minute UTC'],
  ['*/15 * * * *', 'UTC', 'every 15 minutes UTC'],
  ['5 * * * *', 'UTC', 'every hour at :05 UTC'],
  ['0 3 * * *', 'Europe/Berlin', 'every day at 03:00 Europe/Berlin'],
  ['30 8 * * 1-5', 'UTC', 'weekdays at 08:30 UTC'],
  ['0 9 * * 1', 'UTC', 'every Monday at 09:00 UTC'],
  ['0 9 * * sun', 'UTC', 'every Sunday at 09:00 UTC'],
  ['0 6 1 * *', 'Asia/Tokyo', 'on day 1 of every month at 06:00 Asia/Tokyo'],
  ['0 3 1 1 *', 'UTC', 'cron 0 3 1 1 * (UTC)'],
  ['0 3 1,15 * *', 'UTC', 'cron 0 3 1,15 * * (UTC)']
])('%s in %s reads "%s"', (cron, tz, words) => {
  expect(describeCron(cron, tz)).toBe(words);
});

test('weekdays at 08:30 in New York, across the US DST change', () => {
  const runs = nextRuns(
    parseCron('30 8 * * 1-5', 'America/New_York'),
    new Date('2026-03-06T00:00:00Z'),
    3
  );
  // Friday (EST, -05:00), then Monday and Tuesday after 8 March (EDT, -04:00).
  expect(runs.map(d => localDateTime(d, 'America/New_York'))).toEqual([
    '2026-03-06T08:30:00-05:00',
    '2026-03-09T08:30:00-04:00',
    '2026-03-10T08:30:00-04:00'
  ]);
});

test('refusals name the field and the fault', () => {
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return [(e as ApiError).code, (e as ApiError).message];
    }
    return undefined;
  };
  expect(refusal(() => parseCron('0 3 * * * *', 'UTC'))).toEqual([
    'invalid_cron',
    `"cron": '0 3 * * * *' has 6 fields; a schedule takes 5 (minute hour day-of-month month day-of-week), e.g. "0 3 * * *".`
  ]);
  expect(refusal(() => parseCron('0 25 * * *', 'UTC'))?.[1]).toMatch(
    /^"cron": '0 25 \* \* \*' is not a valid cron expression: .*hour/
  );
  expect(refusal(() => checkTimezone('Europe/Atlantis'))?.[0]).toBe(
    'invalid_timezone'
  );
  expect(checkTimezone('Europe/Berlin')).toBe('Europe/Berlin');
});

test('templates are filled in strings at any depth, other values are left alone', () => {
  const at = new Date('2026-12-31T23:30:00Z');
  expect(
    fillTemplates(
      {
        day: '{{ date }}',
        path: 'out/{{date}}/report.csv',
        when: '{{ datetime }}',
        list: ['{{ date }}', 3],
        n: 1,
        none: null
      },
      at,
      'Europe/Berlin'
    )
  ).toEqual({
    day: '2027-01-01',
    path: 'out/2027-01-01/report.csv',
    when: '2027-01-01T00:30:00+01:00',
    list: ['2027-01-01', 3],
    n: 1,
    none: null
  });
});
