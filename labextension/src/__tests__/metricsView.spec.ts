import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { LiveFollower } from '../live/follower';
import { MetricsView } from '../panel/MetricsView';
import type { NbqueueService } from '../service/client';
import type { IEventsMessage } from '../service/events';
import type { IJob, IMetricRow } from '../service/model';
import { FakePlotly, freeClock, jobFixture, until } from './fixtures';

function job(id: string, state: IJob['state']): IJob {
  return jobFixture({
    id,
    notebook_path: null,
    state,
    created_at: '2026-11-23T10:00:00.000Z',
    started_at: '2026-11-23T10:00:01.000Z',
    last_seq: 3
  });
}

const row = (
  seq: number,
  name: string,
  kind: IMetricRow['kind'] = 'user'
): IMetricRow => ({
  seq,
  name,
  step: seq,
  value: 1 / seq,
  time: 1763906700000 + seq,
  kind
});

/** The parts of the service the view uses, backed by fixed answers. */
class FakeService {
  eventsReceived = new Signal<this, IEventsMessage>(this);
  subscribed: [string, number][] = [];
  constructor(
    private jobs: Record<string, IJob>,
    private metrics: Record<string, IMetricRow[]>
  ) {}
  getJob = async (id: string) => this.jobs[id];
  getMetrics = async (id: string) => ({
    metrics: this.metrics[id],
    cursor: 0
  });
  subscribe = async (id: string, after: number) => {
    this.subscribed.push([id, after]);
    return { ok: true };
  };
  unsubscribe = () => undefined;
}

const follower = { lastSeq: () => null } as unknown as LiveFollower;

function groupPoints(view: MetricsView, kind: string): string | undefined {
  const group = view.node.querySelector(
    `.nbq-MetricsView-${kind} .nbq-MetricsChart-group`
  ) as HTMLElement | null;
  return group?.dataset.points;
}

describe('MetricsView', () => {
  it('is built before it is in the page, shows stored points, then live ones', async () => {
    const running = job('j-1', 'running');
    const service = new FakeService(
      { 'j-1': running },
      {
        'j-1': [
          row(1, 'train/loss'),
          row(2, 'system/cpu_percent', 'system'),
          row(3, 'train/loss')
        ]
      }
    );
    const plotly = new FakePlotly();
    // As the panel does: constructed detached, attached by the shell later.
    const view = new MetricsView({
      service: service as unknown as NbqueueService,
      follower,
      jobs: [running],
      chart: { plotly: async () => plotly, clock: freeClock() }
    });
    Widget.attach(view, document.body);
    await view.ready;
    expect(service.subscribed).toEqual([['j-1', 3]]);
    const empty = (kind: string) =>
      (
        view.node.querySelector(
          `.nbq-MetricsView-${kind} .nbq-MetricsView-empty`
        ) as HTMLElement | null
      )?.hidden;
    // The headings are React: rendered once the view is in the page.
    await until(() => empty('user') && empty('system'));
    expect([empty('user'), empty('system')]).toEqual([true, true]);
    expect(groupPoints(view, 'user')).toBe('2');
    expect(groupPoints(view, 'system')).toBe('1');
    // System metrics: over wall time, on a chart of their unit (%).
    const system = [...plotly.calls]
      .reverse()
      .find(c => c.root.parentElement?.dataset.group === 'utilization');
    expect(system?.data[0].x[0]).toBeInstanceOf(Date);
    expect(system?.layout?.xaxis).toMatchObject({ type: 'date' });
    expect(system?.layout?.yaxis).toMatchObject({
      title: { text: '%' },
      ticksuffix: '%'
    });
    // The user's metrics stay on their steps.
    const user = plotly.last('train');
    expect(user[0].x).toEqual([1, 3]);

    service.eventsReceived.emit({
      job_id: 'j-1',
      events: [
        // Already shown (seq 3), then a new point.
        {
          seq: 3,
          time: 3,
          type: 'metric',
          name: 'train/loss',
          value: 1,
          step: 3
        },
        {
          seq: 4,
          time: 4,
          type: 'metric',
          name: 'train/loss',
          value: 0.25,
          step: 4,
          kind: 'user'
        }
      ]
    });
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(groupPoints(view, 'user')).toBe('3');
    view.dispose();
  });

  it('overlays the jobs it compares, one series each', async () => {
    const a = job('j-a', 'succeeded');
    const b = job('j-b', 'succeeded');
    const service = new FakeService(
      { 'j-a': a, 'j-b': b },
      {
        'j-a': [row(1, 'train/loss'), row(2, 'train/loss')],
        'j-b': [row(1, 'train/loss')]
      }
    );
    const view = new MetricsView({
      service: service as unknown as NbqueueService,
      follower,
      jobs: [a, b],
      chart: { plotly: async () => new FakePlotly(), clock: freeClock() }
    });
    Widget.attach(view, document.body);
    await view.ready;
    await new Promise(resolve => setTimeout(resolve, 10));
    await until(() => view.node.textContent);
    expect(view.node.textContent).toContain('Comparing train j-a, train j-b');
    const group = view.node.querySelector(
      '.nbq-MetricsView-user .nbq-MetricsChart-group'
    ) as HTMLElement;
    expect([group.dataset.series, group.dataset.points]).toEqual(['2', '3']);
    // Finished jobs: nothing to follow.
    expect(service.subscribed).toEqual([]);
    view.dispose();
  });
});
