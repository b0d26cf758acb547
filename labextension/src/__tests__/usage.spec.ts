/**
 * The Jobs panel's usage line: "Your jobs use 1.2 MB", from GET /api/usage (the caller's own
 * usage, also for an admin), and no line when the sidecar has no usage to give.
 */
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { JobActions } from '../panel/actions';
import { JobsPanel } from '../panel/JobsPanel';
import { JobsModel, JobsSource } from '../panel/model';
import type { IUsage } from '../service/model';
import { until } from './fixtures';

function source(getUsage?: () => Promise<IUsage>): JobsSource {
  return {
    getInfo: async () => ({ user: 'alice', admin: true }),
    getQueues: async () => [],
    getProfiles: async () => [],
    listJobsPage: async () => ({ jobs: [], next_cursor: null }),
    jobChanged: new Signal({}),
    connected: new Signal({}),
    ...(getUsage ? { getUsage } : {})
  } as unknown as JobsSource;
}

async function panelWith(model: JobsModel): Promise<JobsPanel> {
  const panel = new JobsPanel(model, {} as JobActions);
  Widget.attach(panel, document.body);
  await model.refresh();
  return panel;
}

describe('the Jobs panel usage line', () => {
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it("shows what the user's own jobs take, not everyone's", async () => {
    const model = new JobsModel(
      source(async () => ({
        user: { user: 'alice', jobs: 3, bytes: 1288490189 },
        users: [
          { user: 'bob', jobs: 40, bytes: 50 * 1024 ** 3 },
          { user: 'alice', jobs: 3, bytes: 1288490189 }
        ]
      }))
    );
    const panel = await panelWith(model);
    const line = await until(() =>
      document.querySelector('.nbq-JobsPanel-usage')
    );
    expect(line.textContent).toBe('Your jobs use 1.2 GB');
    expect(model.usage?.user.jobs).toBe(3);
    panel.dispose();
  });

  it('shows no line when the usage cannot be had, and still lists the jobs', async () => {
    const model = new JobsModel(
      source(async () => {
        throw new Error('404');
      })
    );
    const panel = await panelWith(model);
    await until(() => (model.loaded ? true : null));
    expect(model.error).toBeNull();
    expect(model.usage).toBeNull();
    expect(document.querySelector('.nbq-JobsPanel-usage')).toBeNull();
    panel.dispose();

    const older = new JobsModel(source());
    await older.refresh();
    expect([older.loaded, older.usage]).toEqual([true, null]);
  });
});
