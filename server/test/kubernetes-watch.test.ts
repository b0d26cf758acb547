/**
 * The Kubernetes backend's informer (src/backends/kubernetes/watch.ts) against a fake watch
 * source: list then watch, resume, relist on 410 Gone, backoff after errors, stall, stop.
 * (Against a real API server, restarted under it: test/k8s/resilience.test.ts.)
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  Watched,
  WatchSource,
  WatchedOptions
} from '../src/backends/kubernetes/watch';

type Obj = KubernetesObject;

const obj = (name: string, resourceVersion: string, namespace = 'ns'): Obj => ({
  metadata: { name, namespace, resourceVersion }
});

interface FakeWatch {
  resourceVersion: string;
  event(type: string, o: Obj): void;
  done(err: unknown): void;
  aborted: boolean;
}

/** A source whose list answers `items` (or rejects with `failList`), and whose watches the test drives. */
class FakeSource implements WatchSource<Obj> {
  items: Obj[] = [];
  listVersion = '10';
  failList: unknown = undefined;
  lists = 0;
  readonly watches: FakeWatch[] = [];

  async list() {
    this.lists += 1;
    if (this.failList) throw this.failList;
    return {
      items: [...this.items],
      metadata: { resourceVersion: this.listVersion }
    };
  }

  async watch(
    resourceVersion: string,
    onEvent: (type: string, o: Obj) => void,
    onDone: (err: unknown) => void
  ) {
    const w: FakeWatch = {
      resourceVersion,
      event: onEvent,
      done: onDone,
      aborted: false
    };
    this.watches.push(w);
    return { abort: () => (w.aborted = true) };
  }

  get last(): FakeWatch {
    return this.watches[this.watches.length - 1];
  }
}

function setup(over: Partial<WatchedOptions<Obj>> = {}) {
  const source = new FakeSource();
  const seen: string[] = [];
  const errors: unknown[] = [];
  const watched = new Watched<Obj>({
    source,
    stallSeconds: 60,
    on: {
      added: o => seen.push(`added ${o.metadata?.name}`),
      modified: o => seen.push(`modified ${o.metadata?.name}`),
      deleted: o => seen.push(`deleted ${o.metadata?.name}`)
    },
    onError: err => errors.push(err),
    backoffMs: n => 1000 * 2 ** n,
    ...over
  });
  return { source, seen, errors, watched };
}

/** Lets the promises the fake source resolved run. */
const settle = () => jest.advanceTimersByTimeAsync(0);

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('lists, then watches from the list resourceVersion; each event type has its handler', async () => {
  const { source, seen, watched } = setup();
  source.items = [obj('a', '5'), obj('b', '6')];
  await watched.start();
  expect(seen).toEqual(['added a', 'added b']);
  expect(source.watches).toHaveLength(1);
  expect(source.last.resourceVersion).toBe('10');

  source.last.event('ADDED', obj('c', '11'));
  source.last.event('MODIFIED', obj('a', '12'));
  source.last.event('MODIFIED', obj('a', '12')); // same version: no change
  source.last.event('DELETED', obj('b', '13'));
  source.last.event('DELETED', obj('zz', '14')); // never seen: nothing to delete
  expect(seen.slice(2)).toEqual(['added c', 'modified a', 'deleted b']);
  expect(
    watched
      .list('ns')
      .map(o => o.metadata?.name)
      .sort()
  ).toEqual(['a', 'c']);
  expect(watched.get('a', 'ns')?.metadata?.resourceVersion).toBe('12');
  expect(watched.get('b', 'ns')).toBeUndefined();
  await watched.stop();
});

test('a watch the server closes is resumed from the last resourceVersion, without a relist', async () => {
  const { source, watched } = setup();
  await watched.start();
  source.last.event('ADDED', obj('a', '15'));
  source.last.event('BOOKMARK', obj('', '17'));
  source.last.done(null);
  await settle();
  expect(source.lists).toBe(1);
  expect(source.watches).toHaveLength(2);
  expect(source.last.resourceVersion).toBe('17');
  expect(watched.restarts).toBe(0);
  await watched.stop();
});

test('after an error it relists after a backoff; what vanished meanwhile becomes a delete', async () => {
  const { source, seen, errors, watched } = setup();
  source.items = [obj('a', '5'), obj('b', '6')];
  await watched.start();
  const broken = new Error('connection reset');
  source.items = [obj('a', '20'), obj('c', '21')];
  source.listVersion = '22';
  source.last.done(broken);
  expect(errors).toEqual([broken]);
  await jest.advanceTimersByTimeAsync(999);
  expect(source.lists).toBe(1);
  await jest.advanceTimersByTimeAsync(1);
  expect(source.lists).toBe(2);
  expect(watched.restarts).toBe(1);
  expect(seen.slice(2)).toEqual(['deleted b', 'modified a', 'added c']);
  expect(source.last.resourceVersion).toBe('22');
  await watched.stop();
});

test('failed lists back off longer each time, and a list that succeeds resets the backoff', async () => {
  const { source, errors, watched } = setup();
  source.failList = Object.assign(new Error('refused'), { code: 503 });
  await watched.start();
  expect(errors).toHaveLength(1);
  expect(source.watches).toHaveLength(0);
  await jest.advanceTimersByTimeAsync(1000);
  expect(source.lists).toBe(2);
  await jest.advanceTimersByTimeAsync(1999);
  expect(source.lists).toBe(2);
  await jest.advanceTimersByTimeAsync(1);
  expect(source.lists).toBe(3);
  source.failList = undefined;
  await jest.advanceTimersByTimeAsync(4000);
  expect(source.lists).toBe(4);
  expect(source.watches).toHaveLength(1);
  // The next error waits the first backoff again.
  source.last.done(new Error('reset'));
  await jest.advanceTimersByTimeAsync(1000);
  expect(source.lists).toBe(5);
  await watched.stop();
});

test('410 Gone relists at once, whether the watch is refused or says so in an ERROR event', async () => {
  const { source, errors, watched } = setup();
  await watched.start();
  source.last.done(Object.assign(new Error('Gone'), { statusCode: 410 }));
  await settle();
  expect(source.lists).toBe(2);
  expect(source.watches).toHaveLength(2);

  source.listVersion = '30';
  source.last.event('ERROR', { code: 410, reason: 'Expired' } as Obj);
  source.last.done(null);
  await settle();
  expect(source.lists).toBe(3);
  expect(source.last.resourceVersion).toBe('30');
  expect(errors).toEqual([]);
  await watched.stop();
});

test('a watch silent for stallSeconds is dropped and relisted', async () => {
  const { source, watched } = setup({ stallSeconds: 8 });
  await watched.start();
  const first = source.last;
  await jest.advanceTimersByTimeAsync(6000);
  first.event('ADDED', obj('a', '11'));
  await jest.advanceTimersByTimeAsync(6000);
  expect(source.lists).toBe(1);
  await jest.advanceTimersByTimeAsync(4000);
  expect(source.lists).toBe(2);
  expect(watched.restarts).toBe(1);
  expect(first.aborted).toBe(true);
  // The dropped watch's late events no longer count.
  first.event('ADDED', obj('late', '12'));
  expect(watched.get('late', 'ns')).toBeUndefined();
  await watched.stop();
});

test('stop aborts the watch; nothing restarts after it, errors or not', async () => {
  const { source, seen, errors, watched } = setup();
  source.items = [obj('a', '5')];
  await watched.start();
  const w = source.last;
  await watched.stop();
  expect(w.aborted).toBe(true);
  w.event('ADDED', obj('b', '11'));
  w.done(new Error('aborted'));
  await jest.advanceTimersByTimeAsync(120000);
  expect(source.lists).toBe(1);
  expect(source.watches).toHaveLength(1);
  expect(seen).toEqual(['added a']);
  expect(errors).toEqual([]);
  await watched.restart();
  expect(source.lists).toBe(1);
});

test('stop during a backoff cancels the relist', async () => {
  const { source, watched } = setup();
  await watched.start();
  source.last.done(new Error('reset'));
  await watched.stop();
  await jest.advanceTimersByTimeAsync(60000);
  expect(source.lists).toBe(1);
});

test('a handler that throws is reported and the watch goes on', async () => {
  const boom = new Error('handler bug');
  const { source, errors, watched } = setup({
    on: {
      added: () => {
        throw boom;
      }
    }
  });
  await watched.start();
  source.last.event('ADDED', obj('a', '11'));
  source.last.event('ADDED', obj('b', '12'));
  expect(errors).toEqual([boom, boom]);
  expect(watched.list().map(o => o.metadata?.name)).toEqual(['a', 'b']);
  await watched.stop();
});
