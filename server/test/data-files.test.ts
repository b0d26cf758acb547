import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { hashToken } from '../src/auth/token';
import type { JobView } from '../src/jobs/types';
import { writeState } from '../src/statefile';
import { Store } from '../src/store/store';
import {
  PYTHON,
  REPO,
  code,
  notebook,
  startTestSidecar,
  tmpDir,
  waitFor
} from './helpers';

/** Every folder and file under `dir` with its permission bits, e.g. `logs/x.log 600`. */
function modes(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = fs.statSync(p);
    out.push(`${rel || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory())
      for (const name of fs.readdirSync(p).sort())
        walk(path.join(p, name), rel ? `${rel}/${name}` : name);
  };
  walk(dir, '');
  return out;
}

/** The store's bytes on disk: the database and its write-ahead log. */
function storeBytes(db: string): Buffer {
  return Buffer.concat(
    [db, `${db}-wal`, `${db}-shm`]
      .filter(f => fs.existsSync(f))
      .map(f => fs.readFileSync(f))
  );
}

/**
 * The sidecar's data directory (store, logs, archives) holds every user's notebooks, results,
 * files and the sidecar token: 0700 folders and 0600 files, whatever the umask; the store keeps
 * only a hash of the token nbqueue generated, which lives in `<store>.token` (0600).
 */
describe("the sidecar's data is its account's alone", () => {
  test('folders 0700, files 0600: store, logs, archives, token, state file', async () => {
    const parent = tmpDir('nbq-data-');
    fs.chmodSync(parent, 0o755);
    const dir = path.join(parent, 'data');
    const s = await startTestSidecar({ auth: { token: undefined } }, dir);
    try {
      // An input bundle and an output archive, as a job with working files makes them.
      const project = tmpDir('nbq-project-');
      fs.writeFileSync(path.join(project, 'input.txt'), 'hello');
      const archive = path.join(tmpDir('nbq-bundle-'), 'b.tar.gz');
      execFileSync(
        PYTHON,
        [
          '-c',
          `import sys
from nbqueue.files import build_manifest, write_bundle
m = build_manifest(sys.argv[1], 1 << 20)
with open(sys.argv[2], "wb") as f:
    write_bundle(m.root, [p for p, _ in m.files], f)`,
          project,
          archive
        ],
        { env: { ...process.env, PYTHONPATH: path.join(REPO, 'runner-image') } }
      );
      const res = await fetch(`${s.url}/api/files/bundles`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${s.token}`,
          'Content-Type': 'application/gzip'
        },
        body: new Uint8Array(fs.readFileSync(archive))
      });
      const { id: bundle } = (await res.json()) as { id: string };
      expect(res.status).toBe(201);
      const sub = await s.api<JobView>('POST', '/api/jobs', {
        notebook: notebook([
          code("open('out.txt', 'w').write(open('input.txt').read().upper())")
        ]),
        profile: 'cpu',
        input_bundle: bundle
      });
      expect(sub.status).toBe(201);
      const done = await waitFor(async () => {
        const job = (await s.api<JobView>('GET', `/api/jobs/${sub.body.id}`))
          .body;
        return ['succeeded', 'failed', 'cancelled'].includes(job.state)
          ? job
          : null;
      }, 'the job to end');
      expect(done.state).toBe('succeeded');
      writeState(path.join(parent, 'state', 'server.json'), {
        url: s.url,
        token: s.token,
        pid: process.pid
      });

      const listed = modes(dir);
      expect(listed).toEqual(
        expect.arrayContaining([
          '. 700',
          'nbqueue.db 600',
          'nbqueue.db.token 600',
          'logs 700',
          `logs/${sub.body.id}.log 600`,
          'files 700',
          `files/inputs/${bundle}.tar.gz 600`,
          `files/outputs/${sub.body.id}.tar.gz 600`
        ])
      );
      expect(listed.filter(l => !/ (600|700)$/.test(l))).toEqual([]);
      expect(modes(path.join(parent, 'state'))).toEqual([
        '. 700',
        'server.json 600'
      ]);

      // The generated token: in its own 0600 file, only its hash in the store.
      expect(s.token).toMatch(/^[0-9a-f]{48}$/);
      expect(fs.readFileSync(`${s.dbPath}.token`, 'utf8').trim()).toBe(s.token);
      expect(s.store.getSetting('token_hash')).toBe(hashToken(s.token));
      expect(storeBytes(s.dbPath).includes(s.token)).toBe(false);
    } finally {
      await s.close();
    }
    // The same token after a restart (JupyterLab and the CLI keep working).
    const again = await startTestSidecar({ auth: { token: undefined } }, dir);
    expect(again.token).toBe(s.token);
    await again.close();
  });

  test('a store that kept the token itself (earlier versions) keeps only its hash', async () => {
    const dir = tmpDir('nbq-data-');
    const db = path.join(dir, 'nbqueue.db');
    const legacy = 'legacy-token-0123456789abcdef';
    const old = new Store(db);
    old.setSetting('token', legacy);
    old.close();
    expect(storeBytes(db).includes(legacy)).toBe(true);

    const s = await startTestSidecar({ auth: { token: undefined } }, dir);
    try {
      expect(s.token).toBe(legacy);
      expect(s.store.getSetting('token')).toBeUndefined();
      expect(s.store.getSetting('token_hash')).toBe(hashToken(legacy));
      expect(storeBytes(db).includes(legacy)).toBe(false);
      expect(fs.statSync(`${db}.token`).mode & 0o777).toBe(0o600);
    } finally {
      await s.close();
    }
  });
});
