/**
 * The submit dialog when the sidecar refuses the notebook: the person reads
 * the sidecar's own sentence (it names the JSON path or the kernel), and the
 * dialog stays open with the values as they were.
 */
import { ServerConnection } from '@jupyterlab/services';

import { NbqueueService } from '../service/client';
import type { IProfile } from '../service/model';
import { SubmitDialog, SubmitForm } from '../submit/SubmitDialog';
import { until } from './fixtures';

const SIDECAR = 'http://127.0.0.1:9999';

const CPU: IProfile = {
  name: 'cpu',
  description: 'CPU only',
  cpus: 2,
  gpus: 0,
  memory: '4Gi',
  capacity: 2,
  running: 0,
  queued: 0,
  free: 2,
  gpu_type: null,
  gpu_resource: 'nvidia.com/gpu',
  gpu_free: null
};

/** A service whose sidecar answers POST /api/jobs with `status` and `body`. */
function refusingService(status: number, body: unknown) {
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost/',
    fetch: (async () =>
      new Response(JSON.stringify({ url: SIDECAR, token: 't' }), {
        status: 200
      })) as typeof fetch
  });
  const posts: string[] = [];
  jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    posts.push(`${init?.method} ${String(input)}`);
    return new Response(JSON.stringify(body), { status });
  });
  return { service: new NbqueueService({ serverSettings }), posts };
}

const alertText = () =>
  document.querySelector('.nbq-SubmitDialog [role="alert"]')?.textContent;

/** What `GET /api/info` says to a user who is not an admin, with the default classes. */
const USER_PRIORITIES = {
  classes: ['low', 'normal', 'high', 'urgent'],
  allowed: ['low', 'normal', 'high'],
  default: 'normal'
};

describe('SubmitForm priorities', () => {
  it("offers the classes the sidecar allows this user, not a list of the extension's", async () => {
    const form = new SubmitForm({
      initial: {
        profile: 'cpu',
        priority: 'urgent', // a setting the user may no longer choose
        name: 'train.ipynb',
        parameters: [],
        stream: true
      },
      loadProfiles: async () => [CPU],
      loadPriorities: async () => ({
        classes: ['batch', 'normal', 'high', 'urgent'],
        allowed: ['batch', 'normal', 'high'],
        default: 'normal'
      })
    });
    const dialog = new SubmitDialog(form, async () => {
      throw new Error('not submitted');
    });
    const closed = dialog.launch();
    const select = await until(
      () =>
        document.querySelector(
          '.nbq-SubmitDialog select[name="priority"]'
        ) as HTMLSelectElement | null
    );
    await until(() => select.options.length === 3);
    expect(Array.from(select.options).map(o => o.value)).toEqual([
      'batch',
      'normal',
      'high'
    ]);
    expect(form.getValue().priority).toBe('normal');
    dialog.reject();
    await closed;
  });
});

describe('SubmitDialog refused by the sidecar', () => {
  afterEach(() => jest.mocked(globalThis.fetch).mockRestore?.());

  it.each([
    // As server/src/notebook/ words them.
    [
      'invalid_notebook',
      "The notebook is not a valid nbformat v4.4 notebook: cells[3].outputs[0]: 'output_type' is required. Fix that cell or field (or the program that wrote the file), or open the notebook in JupyterLab, save it and submit again."
    ],
    [
      'unsupported_kernel',
      "This notebook uses the 'ir' kernel (R); nbqueue runs Python notebooks only. Switch it to a Python kernel (Kernel → Change Kernel) and submit again."
    ]
  ])('shows the %s message and stays open', async (code, message) => {
    const { service, posts } = refusingService(400, {
      error: { code, message }
    });
    const form = new SubmitForm({
      initial: {
        profile: 'cpu',
        priority: 'normal',
        name: 'train.ipynb',
        parameters: [{ name: 'steps', text: '20' }],
        stream: true
      },
      loadProfiles: async () => [CPU],
      loadPriorities: async () => USER_PRIORITIES
    });
    const dialog = new SubmitDialog(form, () =>
      service.submitJob({
        notebook: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] },
        profile: 'cpu'
      })
    );
    const closed = dialog.launch();
    await until(() =>
      document.querySelector('.nbq-SubmitDialog select[name="profile"]')
    );

    dialog.resolve();

    expect(await until(alertText)).toBe(message);
    expect(posts).toEqual([`POST ${SIDECAR}/api/jobs`]);
    expect(dialog.isAttached).toBe(true);
    expect(dialog.job).toBeNull();
    expect(form.getValue().parameters).toEqual([{ name: 'steps', text: '20' }]);

    dialog.resolve(0);
    expect((await closed).button.accept).toBe(false);
  });
});
