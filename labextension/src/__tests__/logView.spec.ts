/**
 * The runner's log of a job: its text, a failure in its place, and Reload.
 */
import { Widget } from '@lumino/widgets';

import { LogView } from '../panel/LogView';
import type { IJob } from '../service/model';
import { until } from './fixtures';

const JOB = { id: 'j-1', name: 'train' } as IJob;

describe('LogView', () => {
  it('shows the log, a failure in red, and reads it again on Reload', async () => {
    const answers: Array<() => Promise<string>> = [
      async () => '',
      async () => {
        throw new Error('sidecar down');
      },
      async () => 'step 1\nstep 2\n'
    ];
    const asked: string[] = [];
    const view = new LogView(
      {
        getLog: (id: string) => {
          asked.push(id);
          return answers.shift()!();
        }
      },
      JOB
    );
    Widget.attach(view, document.body);
    expect(view.node.dataset.jobId).toBe('j-1');
    const text = () =>
      view.node.querySelector('.nbq-LogView-text') as HTMLElement | null;
    await until(() => text()?.textContent === '(the log is empty)');

    await view.reload();
    await until(() => text()?.classList.contains('nbq-mod-error'));
    expect(text()!.textContent).toBe(
      'Could not read the log of job j-1: sidecar down'
    );

    const reload = view.node.querySelector('button') as HTMLButtonElement;
    expect(reload.textContent).toBe('Reload');
    reload.click();
    await until(() => text()?.textContent === 'step 1\nstep 2\n');
    expect(text()!.classList.contains('nbq-mod-error')).toBe(false);
    expect(asked).toEqual(['j-1', 'j-1', 'j-1']);
    view.dispose();
  });
});
