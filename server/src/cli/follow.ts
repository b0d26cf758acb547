import type { api } from '@nbqueue/common';
import { FINAL_STATES } from '../api/contract/states';
import { CliError, Client } from './client';
import { outputText } from './format';

type Event = api.Event;
type Job = api.Job;

/** Prints a job's outputs as they arrive; resolves with the job's final state. */
export function follow(
  client: Client,
  jobId: string,
  out = process.stdout,
  err = process.stderr
): Promise<Job> {
  return new Promise((resolve, reject) => {
    const socket = client.socket();
    let last = 0;
    let done = false;
    const finish = (job: Job) => {
      if (done) return;
      done = true;
      socket.close();
      resolve(job);
    };
    const checkFinal = async () => {
      const job = await client.call('get', '/api/jobs/{id}', { id: jobId });
      // Every event is stored before the job ends, so the backlog is complete by now.
      if (FINAL_STATES.has(job.state) && last >= job.last_seq) finish(job);
    };
    socket.on('connect', () => {
      socket.emit(
        'subscribe',
        { job_id: jobId, after: last },
        (answer: { ok: boolean; error?: { message: string } }) => {
          if (!answer.ok) {
            socket.close();
            reject(new CliError(answer.error?.message ?? 'subscribe failed'));
            return;
          }
          void checkFinal().catch(reject);
        }
      );
    });
    socket.on('connect_error', e => {
      if (e.message === 'unauthorized') {
        socket.close();
        reject(
          new CliError(
            'The sidecar refused the token (unauthorized). Check NBQUEUE_TOKEN.'
          )
        );
      }
    });
    socket.on('events', (msg: { job_id: string; events: Event[] }) => {
      if (msg.job_id !== jobId) return;
      for (const ev of msg.events) {
        if (ev.seq <= last) continue;
        last = ev.seq;
        if (ev.type === 'output') {
          const { text, stderr } = outputText(
            ev.output as Record<string, unknown>
          );
          (stderr ? err : out).write(text);
        } else if (
          ev.type === 'log' &&
          (ev.level === 'warning' || ev.level === 'error')
        ) {
          err.write(`[nbqueue] ${String(ev.message)}\n`);
        }
      }
      void checkFinal().catch(reject);
    });
    socket.on('job', (job: Job) => {
      if (job.id === jobId && FINAL_STATES.has(job.state))
        void checkFinal().catch(reject);
    });
  });
}
