import type { Profile } from './schema';

/** Built-in profiles: what a data scientist picks in the dialog. */
export const DEFAULT_PROFILES: Profile[] = [
  {
    name: 'cpu',
    description: 'CPU only',
    cpus: 2,
    gpus: 0,
    memory: '8Gi',
    capacity: 4
  },
  {
    name: 'gpu-1',
    description: 'One GPU',
    cpus: 8,
    gpus: 1,
    memory: '32Gi',
    capacity: 2
  },
  {
    name: 'gpu-2',
    description: 'Two GPUs',
    cpus: 16,
    gpus: 2,
    memory: '64Gi',
    capacity: 1
  },
  {
    name: 'gpu-8',
    description: 'A whole 8-GPU node',
    cpus: 64,
    gpus: 8,
    memory: '480Gi',
    capacity: 1
  }
];
