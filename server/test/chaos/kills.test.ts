/**
 * The sidecar killed with SIGKILL at each point of a job's life (src/faults.ts, and from
 * outside while the runner starts and while a cell runs), then started again on the same
 * store: each job ends as it would have, with the same id, one runner, every event once and
 * its result equal to its events; a job that had ended before is not started again.
 */
import type { JobView } from '../../src/jobs/types';
import { waitFor } from '../helpers';
import {
  Notebook,
  ended,
  events,
  printed,
  printingCells,
  problems,
  writeNotebooks
} from './checks';
import { RunnerWatch, killRunners, runnersNow } from './processes';
import { ChaosSidecar, freePort } from './sidecar';

const POINTS = [
  'submit.answered',
  'admission.claimed',
  'events.stored',
  'finish.received',
  'result.stored'
];
const OUTSIDE = ['while the runner starts', 'while a cell runs'];
const CASES = ['before', ...POINTS, ...OUTSIDE];

describe('the sidecar killed at each point of a job, then restarted', () => {
  let s: ChaosSidecar;
  let watch: RunnerWatch;
  let nbs: Map<string, Notebook>;
  let before: JobView;
  const ids: string[] = [];

  beforeAll(async () => {
    nbs = writeNotebooks(
      CASES.map(name => ({ name, cells: printingCells(name) }))
    );
    s = new ChaosSidecar(await freePort(), { capacity: 2 });
    watch = new RunnerWatch([s.url]);
    await s.start();
    // A job that ended before any fault: it must stay as it was.
    before = await submitAndEnd('before');
  });

  afterAll(async () => {
    watch.stop();
    await s.kill();
    killRunners(ids);
  });

  async function submit(name: string): Promise<string> {
    const res = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      name,
      notebook: nbs.get(name)
    });
    if (res.status !== 201)
      throw new Error(
        `submit ${name}: ${res.status} ${JSON.stringify(res.body)}`
      );
    ids.push(res.body.id);
    return res.body.id;
  }

  async function submitAndEnd(name: string): Promise<JobView> {
    return ended(s, await submit(name));
  }

  /** The job ended as it should, after whatever happened, and nothing else changed. */
  async function check(id: string, name: string): Promise<void> {
    const job = await ended(s, id);
    expect(job.id).toBe(id);
    expect([job.state, job.reason]).toEqual(['succeeded', null]);
    expect(await problems(s, job, printed(name))).toEqual([]);
    // No copy of it, nothing lost: the jobs are those submitted, each once.
    const listed = (await s.api<{ jobs: JobView[] }>('GET', '/api/jobs')).body
      .jobs;
    expect(listed.map(j => j.id).sort()).toEqual([...ids].sort());
    // The job that had ended is as it was: not started again, its events the same.
    const again = (await s.api<JobView>('GET', `/api/jobs/${before.id}`)).body;
    expect(again).toMatchObject({
      state: 'succeeded',
      last_seq: before.last_seq,
      finished_at: before.finished_at
    });
    await waitFor(() => !runnersNow().has(id), `job ${id}'s runner to exit`);
    watch.sample();
    expect(watch.doubled()).toEqual({});
    expect(watch.seen.get(before.id)?.size).toBe(1);
    expect(watch.seen.get(id)?.size).toBe(1);
  }

  /** The id of the job named `name`, once the sidecar has it. */
  async function byName(name: string): Promise<string> {
    const listed = (await s.api<{ jobs: JobView[] }>('GET', '/api/jobs')).body
      .jobs;
    const id = listed.find(j => j.name === name)?.id;
    if (!id) throw new Error(`no job named ${name}: ${JSON.stringify(listed)}`);
    if (!ids.includes(id)) ids.push(id);
    return id;
  }

  test.each(POINTS)('crash at %s', async point => {
    await s.stop();
    await s.start(`crash:${point}`);
    const crashed = s.exited();
    // A crash while the submit is handled (admission.claimed: the job is queued and claimed
    // before the answer goes) loses the answer, not the job: it is found by its name.
    const answer = submit(point).catch(() => undefined);
    expect(await crashed).toBe('SIGKILL');
    expect(s.output).toContain(`fault ${point}@1: killing the sidecar`);
    await s.start();
    const id = (await answer) ?? (await byName(point));
    await check(id, point);
  });

  test('killed from outside while the runner starts', async () => {
    const name = OUTSIDE[0];
    const id = await submit(name);
    await waitFor(() => runnersNow().has(id), 'the runner process');
    expect(await events(s, id)).toEqual([]);
    await s.kill();
    await s.start();
    await check(id, name);
  });

  test('killed from outside while a cell runs', async () => {
    const name = OUTSIDE[1];
    const id = await submit(name);
    await waitFor(
      async () => (await events(s, id)).some(e => e.type === 'output'),
      'the first output'
    );
    await s.kill();
    await s.start();
    await check(id, name);
  });
});
