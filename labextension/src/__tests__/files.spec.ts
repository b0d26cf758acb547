import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { FilesProbe, IManifest, manifestSummary } from '../submit/files';

const REPO = path.resolve(__dirname, '../../..');

function python(): string {
  const venv = path.join(REPO, '.venv/bin/python');
  return fs.existsSync(venv) ? venv : 'python3';
}

/** A manifest as the server extension answers it, from the runner package's own code. */
function manifestOf(dir: string, maxBytes: number): IManifest {
  const out = execFileSync(
    python(),
    [
      '-c',
      'import json, sys\nfrom nbqueue.files import build_manifest\n' +
        'doc = build_manifest(sys.argv[1], int(sys.argv[2])).to_json()\n' +
        'doc["bundle"] = True\nprint(json.dumps(doc))',
      dir,
      String(maxBytes)
    ],
    {
      env: { ...process.env, PYTHONPATH: path.join(REPO, 'runner-image') }
    }
  );
  return JSON.parse(out.toString()) as IManifest;
}

function folder(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbq-files-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

describe('working files in the submit dialog', () => {
  it('summarises what goes and what was left out', () => {
    const dir = folder({
      'train.ipynb': '{}',
      'data.csv': 'x'.repeat(2048),
      'node_modules/a.js': 'a',
      'scratch.tmp': 't',
      '.nbqueueignore': '*.tmp\n'
    });
    const manifest = manifestOf(dir, 1024 * 1024);
    expect(manifestSummary(manifest)).toBe(
      '3 files · 2.0 KB go with the job · 2 left out'
    );
    expect(manifest.left_out.map(e => e.reason)).toEqual([
      'default ignore: node_modules',
      '.nbqueueignore: *.tmp'
    ]);
  });

  it('blocks the submit with what to ignore when over the cap', async () => {
    const dir = folder({
      'train.ipynb': '{}',
      'weights/model.bin': 'w'.repeat(5000)
    });
    const probe = new FilesProbe(async () => manifestOf(dir, 4096));
    let changes = 0;
    probe.changed.connect(() => (changes += 1));
    expect(probe.problem).toBeNull();
    await probe.load();
    expect(changes).toBe(2); // loading, then ready
    expect(probe.problem).toContain('Add the largest to .nbqueueignore');
    expect(probe.problem).toContain('weights/ (4.9 KB)');
  });

  it('uploads nothing when the sidecar uses shared storage or listing failed', async () => {
    const shared = new FilesProbe(async () => ({
      ...manifestOf(folder({ 'a.ipynb': '{}' }), 10),
      bundle: false
    }));
    await shared.load();
    expect(shared.bundles).toBe(false);
    expect(shared.problem).toBeNull(); // over the cap, but nothing is sent
    const broken = new FilesProbe(() =>
      Promise.reject(new Error('server extension missing'))
    );
    const state = await broken.load();
    expect(state).toEqual({
      status: 'failed',
      error: 'server extension missing'
    });
    expect(broken.bundles).toBe(false);
  });

  it('uploads nothing when nothing but the notebook is in its folder', async () => {
    // The notebook itself is never among its working files (the job has it already).
    const alone = new FilesProbe(async () => ({
      ...manifestOf(folder({}), 1024),
      bundle: true
    }));
    await alone.load();
    expect(alone.bundles).toBe(false);
    const withData = new FilesProbe(async () => ({
      ...manifestOf(folder({ 'data.csv': '1' }), 1024),
      bundle: true
    }));
    await withData.load();
    expect(withData.bundles).toBe(true);
  });
});
