/**
 * The submit dialog's profiles grouped by GPU shape: a GPU type, a MIG slice, any GPU, each
 * with what is free of it; a sidecar without shapes keeps the plain list.
 */
import type { IProfile } from '../service/model';
import { profileLabel } from '../submit/format';
import { groupProfiles } from '../submit/profileGroups';
import { SubmitDialog, SubmitForm } from '../submit/SubmitDialog';
import { until } from './fixtures';

const base = {
  description: '',
  memory: '8Gi',
  capacity: 4,
  running: 0,
  queued: 0,
  free: 4,
  gpu_type: null,
  gpu_resource: 'nvidia.com/gpu',
  gpu_free: null
};
const CPU: IProfile = { ...base, name: 'cpu', cpus: 2, gpus: 0, gpu_free: 0 };
const GPU1: IProfile = {
  ...base,
  name: 'gpu-1',
  cpus: 8,
  gpus: 1,
  gpu_free: 16
};
const MIG: IProfile = {
  ...base,
  name: 'mig',
  cpus: 2,
  gpus: 1,
  gpu_resource: 'nvidia.com/mig-1g.10gb',
  gpu_free: 6
};
const L4_1: IProfile = {
  ...base,
  name: 'l4-1',
  cpus: 8,
  gpus: 1,
  gpu_type: 'NVIDIA-L4',
  gpu_free: 3
};
const L4_4: IProfile = { ...L4_1, name: 'l4-4', gpus: 4 };

describe('groupProfiles', () => {
  it('groups by type and resource, in first-seen order, with the free units of each', () => {
    const groups = groupProfiles([CPU, GPU1, L4_1, MIG, L4_4]);
    expect(groups?.map(g => [g.label, g.profiles.map(p => p.name)])).toEqual([
      ['CPU only', ['cpu']],
      ['Any GPU — 16 free', ['gpu-1']],
      ['NVIDIA-L4 — 3 free', ['l4-1', 'l4-4']],
      ['nvidia.com/mig-1g.10gb — 6 free', ['mig']]
    ]);
  });

  it('leaves the free units out where the backend cannot know them (local)', () => {
    const local = [L4_1, { ...MIG, gpu_free: null }].map(p => ({
      ...p,
      gpu_free: null
    }));
    expect(groupProfiles(local)?.map(g => g.label)).toEqual([
      'NVIDIA-L4',
      'nvidia.com/mig-1g.10gb'
    ]);
  });

  it('keeps the plain list when no profile has a shape', () => {
    expect(groupProfiles([CPU, GPU1])).toBeNull();
  });

  it('names the resource of a MIG profile in its label', () => {
    expect(profileLabel(MIG)).toBe(
      'mig — 2 CPU · 1 nvidia.com/mig-1g.10gb · 8Gi — 4 of 4 free · 0 queued'
    );
    expect(profileLabel(GPU1)).toBe(
      'gpu-1 — 8 CPU · 1 GPU · 8Gi — 4 of 4 free · 0 queued'
    );
  });
});

describe('SubmitForm with GPU shapes', () => {
  it('offers the profiles under one group per shape', async () => {
    const form = new SubmitForm({
      initial: {
        profile: 'l4-4',
        priority: 'normal',
        name: 'train.ipynb',
        parameters: [],
        stream: true
      },
      loadProfiles: async () => [CPU, GPU1, L4_1, MIG, L4_4],
      loadPriorities: async () => ({
        classes: ['low', 'normal'],
        allowed: ['low', 'normal'],
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
          '.nbq-SubmitDialog select[name="profile"]'
        ) as HTMLSelectElement | null
    );
    const groups = Array.from(select.querySelectorAll('optgroup')).map(g => [
      g.label,
      Array.from(g.querySelectorAll('option')).map(o => o.value)
    ]);
    expect(groups).toEqual([
      ['CPU only', ['cpu']],
      ['Any GPU — 16 free', ['gpu-1']],
      ['NVIDIA-L4 — 3 free', ['l4-1', 'l4-4']],
      ['nvidia.com/mig-1g.10gb — 6 free', ['mig']]
    ]);
    expect(select.value).toBe('l4-4');
    expect(form.getValue().profile).toBe('l4-4');
    dialog.reject();
    await closed;
  });
});
