import * as fs from 'fs';
import * as path from 'path';
import { FileStore } from '../src/files/store';
import { Store } from '../src/store/store';
import type { JobRecord } from '../src/jobs/types';
import { notebook, tmpDir } from './helpers';

function job(id: string, inputBundle?: string): JobRecord {
  return {
    id,
    owner: 'alice',
    name: id,
    profile: 'cpu',
    queue: 'cpu',
    priority: 'normal',
    state: 'succeeded',
    reason: null,
    created_at: new Date().toISOString(),
    started_at: null,
    finished_at: null,
    position_key: 1,
    spec: {
      parameters: {},
      notebook_path: null,
      cwd: null,
      kernel: {},
      ...(inputBundle ? { input_bundle: inputBundle } : {})
    },
    cancel_requested: false,
    held: false,
    backend_ref: null,
    last_seq: 0,
    attempt: 1,
    restarts: [],
    has_result: false
  };
}

describe('job files on disk and in the store', () => {
  let dir: string;
  let store: Store;
  let now: Date;
  let files: FileStore;
  beforeEach(() => {
    dir = tmpDir('nbq-filestore-');
    store = new Store(path.join(dir, 'nbqueue.db'));
    now = new Date('2030-01-01T00:00:00Z');
    files = new FileStore(
      path.join(dir, 'nbqueue.db'),
      path.join(dir, 'files'),
      () => now
    );
  });
  afterEach(() => {
    files.close();
    store.close();
  });

  const upload = (content: string): string => {
    const tmp = files.tempPath();
    fs.writeFileSync(tmp, content);
    return tmp;
  };

  test('inputs used by a job (or its rerun) stay until no job uses them', () => {
    const input = files.addInput('alice', upload('in'), 2, [
      { path: 'data.csv', size: 2 }
    ]);
    const archive = files.archivePath(input);
    expect(fs.readFileSync(archive, 'utf8')).toBe('in');
    store.insertJob(job('j-1', input.id), notebook([]) as never);
    store.insertJob(job('j-2', input.id), notebook([]) as never);
    files.setOutput('j-1', 'alice', upload('out'), 3, [], []);
    const output = files.archivePath(files.output('j-1')!);

    files.deleteJob('j-1', input.id);
    expect(files.output('j-1')).toBeUndefined();
    expect(fs.existsSync(output)).toBe(false);
    expect(files.input(input.id)).toBeDefined(); // the rerun j-2 still uses it

    now = new Date('2030-01-03T00:00:00Z');
    expect(files.sweepInputs(24 * 3600 * 1000)).toBe(0); // in use by j-2
  });

  test('an input no job uses is swept after a day, not before', () => {
    const input = files.addInput('alice', upload('x'), 1, []);
    expect(fs.existsSync(files.archivePath(input))).toBe(true);
    expect(files.sweepInputs(24 * 3600 * 1000)).toBe(0);
    now = new Date('2030-01-02T00:00:01Z');
    expect(files.sweepInputs(24 * 3600 * 1000)).toBe(1);
    expect(files.input(input.id)).toBeUndefined();
    expect(fs.existsSync(files.archivePath(input))).toBe(false);
  });

  test('a retried output upload replaces the first', () => {
    files.setOutput('j-9', 'alice', upload('first'), 5, [], []);
    files.setOutput(
      'j-9',
      'alice',
      upload('second'),
      6,
      [{ path: 'a.csv', size: 6 }],
      [{ path: 'big.bin', size: 10, reason: 'over the limit' }]
    );
    const stored = files.output('j-9')!;
    expect(stored.files).toEqual([{ path: 'a.csv', size: 6 }]);
    expect(stored.left_out[0].path).toBe('big.bin');
    expect(fs.readFileSync(files.archivePath(stored), 'utf8')).toBe('second');
  });
});
