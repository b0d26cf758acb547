import type { JobView } from '../src/jobs/types';
import { code, notebook, TestSidecar, waitFor } from './helpers';

type Result = { cells: { outputs: { text?: string }[] }[] };

/** Runs a one-cell job and answers what it printed. */
export async function printed(
  s: TestSidecar,
  source: string,
  token?: string,
  extra: Record<string, unknown> = {}
): Promise<string> {
  const sub = await s.api<JobView>(
    'POST',
    '/api/jobs',
    { notebook: notebook([code(source)]), profile: 'cpu', ...extra },
    token
  );
  expect(sub.status).toBe(201);
  const id = sub.body.id;
  const done = await waitFor(
    async () => {
      const job = (
        await s.api<JobView>('GET', `/api/jobs/${id}`, undefined, token)
      ).body;
      return ['succeeded', 'failed', 'cancelled'].includes(job.state)
        ? job
        : null;
    },
    'the job to end',
    60000
  );
  expect(done.reason).toBeNull();
  const result = await s.api<Result>(
    'GET',
    `/api/jobs/${id}/result`,
    undefined,
    token
  );
  return result.body.cells[0].outputs.map(o => o.text ?? '').join('');
}

/** A cell that prints its runner's environment (the kernel's parent, same OS user) as JSON. */
export const RUNNER_ENV =
  "import os, json\nraw = open(f'/proc/{os.getppid()}/environ', 'rb').read().split(b'\\0')\n" +
  "print(json.dumps(dict(v.decode().split('=', 1) for v in raw if b'=' in v)))";
