import { parseConfig } from '../src/config/load';

const gpu = (idle_gpu: unknown, gpus = 1) => ({
  profiles: [
    { name: 'gpu-1', cpus: 4, gpus, memory: '16Gi', capacity: 1, idle_gpu }
  ]
});

/** The message parseConfig throws for `input`. */
const error = (input: unknown): string => {
  try {
    parseConfig(input);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('profiles[].idle_gpu', () => {
  test('defaults: below 5 % for 30 minutes, warn; absent: no guard', () => {
    expect(parseConfig(gpu({})).profiles[0].idle_gpu).toEqual({
      below_percent: 5,
      minutes: 30,
      action: 'warn'
    });
    expect(
      parseConfig(gpu({ below_percent: 2.5, minutes: 0.5, action: 'stop' }))
        .profiles[0].idle_gpu
    ).toEqual({ below_percent: 2.5, minutes: 0.5, action: 'stop' });
    expect(parseConfig(gpu(undefined)).profiles[0].idle_gpu).toBeUndefined();
  });

  test.each([
    [
      { action: 'kill' },
      /profiles\.0\.idle_gpu\.action: must be "warn" .* or "stop"/
    ],
    [
      { minutes: 0 },
      /profiles\.0\.idle_gpu\.minutes: must be more than 0 minutes/
    ],
    [
      { minutes: '30m' },
      /profiles\.0\.idle_gpu\.minutes: must be a number of minutes/
    ],
    [
      { below_percent: 0 },
      /profiles\.0\.idle_gpu\.below_percent: must be above 0/
    ],
    [
      { below_percent: 150 },
      /profiles\.0\.idle_gpu\.below_percent: must be at most 100/
    ],
    [
      { minutes: 30, after: 5 },
      /profiles\.0\.idle_gpu: Unrecognized key.*after/
    ]
  ])('%j is refused, naming the field', (idle, message) => {
    expect(error(gpu(idle))).toMatch(message);
  });

  test('a profile without GPUs may not have the guard', () => {
    expect(error(gpu({ minutes: 30 }, 0))).toMatch(
      /profiles\.0\.idle_gpu: idle_gpu watches the GPUs of a job, but this profile has none \(gpus: 0\)/
    );
  });
});
