import type { ICodeCellModel } from '@jupyterlab/cells';
import { NotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

import { LiveFollower } from '../live/follower';
import type { NbqueueService } from '../service/client';
import type { IEventsMessage, JobEvent } from '../service/events';
import type { IJob } from '../service/model';
import { EventLog, jobFixture } from './fixtures';

/** The parts of NbqueueService the follower uses, with a stored event log. */
class FakeService {
  connected = new Signal<this, void>(this);
  eventsReceived = new Signal<this, IEventsMessage>(this);
  jobChanged = new Signal<this, IJob>(this);
  stored: JobEvent[] = [];
  subscriptions: Array<{ jobId: string; after: number }> = [];
  unsubscribed: string[] = [];
  socketConnected = true;
  /** The job the subscribe acknowledgement carries. */
  ackJob: IJob | undefined = undefined;

  async socket() {
    return { connected: this.socketConnected };
  }
  async subscribe(jobId: string, after: number) {
    this.subscriptions.push({ jobId, after });
    return { ok: true, job: this.ackJob };
  }
  unsubscribe(jobId: string) {
    this.unsubscribed.push(jobId);
  }
  async getEvents(_: string, after: number) {
    const events = this.stored.filter(e => e.seq > after);
    return { events, last_seq: this.stored.length };
  }
  async getJob(id: string): Promise<IJob> {
    return job(id, 'running');
  }
  send(events: JobEvent[]) {
    this.eventsReceived.emit({ job_id: 'j-1', events });
  }
}

function job(id: string, state: IJob['state'], lastSeq = 0): IJob {
  return jobFixture({
    id,
    name: 'train.ipynb',
    owner: 'me',
    state,
    last_seq: lastSeq
  });
}

/** Enough of a NotebookPanel for the follower and its adapter. */
function panel(model: NotebookModel) {
  const disposed = new Signal<unknown, void>({});
  return {
    isDisposed: false,
    disposed,
    context: { path: 'train.ipynb' },
    content: { model, widgets: [] }
  };
}

function setup() {
  const service = new FakeService();
  const storage = new Map<string, string>();
  const errors: string[] = [];
  const follower = new LiveFollower({
    service: service as unknown as NbqueueService,
    storage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k)
    } as Storage,
    onError: message => void errors.push(message)
  });
  const model = new NotebookModel();
  model.sharedModel.insertCells(0, [
    { cell_type: 'code', id: 'a', source: '' }
  ]);
  const view = panel(model);
  const outputs = () => (model.cells.get(0) as ICodeCellModel).outputs.toJSON();
  return { service, storage, errors, follower, view, outputs };
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('LiveFollower', () => {
  it('subscribes from 0, re-subscribes after a reconnect with the last applied seq', async () => {
    const { service, follower, view, outputs, storage } = setup();
    const log = new EventLog();
    await follower.follow(
      job('j-1', 'running'),
      view as unknown as NotebookPanel
    );
    expect(service.subscriptions).toEqual([{ jobId: 'j-1', after: 0 }]);
    expect(storage.get('nbqueue:follow:train.ipynb')).toBe('["j-1"]');

    service.send([log.cellStarted('a'), log.stream('a', 'x\n')]);
    service.connected.emit();
    await flush();
    expect(service.subscriptions[1]).toEqual({ jobId: 'j-1', after: 2 });
    // The server re-sends after 2 only; a duplicate would be dropped anyway.
    service.send([log.all[1], log.stream('a', 'y\n')]);
    expect(outputs()).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'x\ny\n' }
    ]);
  });

  it('fetches the events of a gap from the REST API', async () => {
    const { service, follower, view, outputs, errors } = setup();
    const log = new EventLog();
    const events = [
      log.cellStarted('a'),
      log.stream('a', '1\n'),
      log.stream('a', '2\n'),
      log.stream('a', '3\n')
    ];
    service.stored = events;
    await follower.follow(
      job('j-1', 'running'),
      view as unknown as NotebookPanel
    );
    service.send([events[0], events[3]]);
    await flush();
    expect(follower.lastSeq('j-1')).toBe(4);
    expect(outputs()).toEqual([
      { output_type: 'stream', name: 'stdout', text: '1\n2\n3\n' }
    ]);
    expect(errors).toEqual([]);
  });

  it('applies the rest and stops when the job ends', async () => {
    const { service, follower, view, outputs, storage } = setup();
    const log = new EventLog();
    service.stored = [
      log.cellStarted('a'),
      log.stream('a', 'done\n'),
      log.cellFinished('a')
    ];
    await follower.follow(
      job('j-1', 'running'),
      view as unknown as NotebookPanel
    );
    service.send([service.stored[0]]);
    service.jobChanged.emit(job('j-1', 'succeeded', 3));
    await flush();
    expect(outputs()).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'done\n' }
    ]);
    expect(service.unsubscribed).toEqual(['j-1']);
    expect(follower.lastSeq('j-1')).toBeNull();
    expect(storage.has('nbqueue:follow:train.ipynb')).toBe(false);
  });

  it('resumes after a reload from seq 0 for a job still running', async () => {
    const { service, follower, view, storage } = setup();
    storage.set('nbqueue:follow:train.ipynb', '["j-1"]');
    await follower.resume(view as unknown as NotebookPanel);
    expect(service.subscriptions).toEqual([{ jobId: 'j-1', after: 0 }]);
  });

  it('waits for the connection before subscribing', async () => {
    const { service, follower, view } = setup();
    service.socketConnected = false;
    await follower.follow(
      job('j-1', 'queued'),
      view as unknown as NotebookPanel
    );
    expect(service.subscriptions).toEqual([]);
    service.connected.emit();
    await flush();
    expect(service.subscriptions).toEqual([{ jobId: 'j-1', after: 0 }]);
  });

  it('finishes a job that ended before the subscription', async () => {
    const { service, follower, view, outputs } = setup();
    const log = new EventLog();
    service.stored = [
      log.cellStarted('a'),
      log.stream('a', 'fast\n'),
      log.cellFinished('a')
    ];
    service.ackJob = job('j-1', 'succeeded', 3);
    await follower.follow(
      job('j-1', 'queued'),
      view as unknown as NotebookPanel
    );
    await flush();
    expect(outputs()).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'fast\n' }
    ]);
    expect(follower.lastSeq('j-1')).toBeNull();
  });
});
