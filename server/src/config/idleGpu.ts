import { z } from 'zod';

/**
 * A profile's idle GPU guard: when every GPU the job's runner sees has been below
 * `below_percent` utilisation for `minutes` (the runner's NVML samples decide), `warn` writes a
 * warning into the running cell's output and the job's log, once per idle period; `stop` ends the
 * job as failed with the reason "GPU idle (<N %) for M min", as a deadline does.
 */
export const idleGpuSchema = z
  .object({
    below_percent: z
      .number({
        invalid_type_error:
          'must be a number of percent of GPU utilisation, e.g. 5'
      })
      .gt(0, 'must be above 0: no GPU is ever below 0 % busy')
      .max(100, 'must be at most 100 (a percentage of GPU utilisation)')
      .default(5),
    minutes: z
      .number({
        invalid_type_error:
          'must be a number of minutes, e.g. 30 (fractions are allowed)'
      })
      .positive('must be more than 0 minutes, e.g. 30')
      .max(7 * 24 * 60, 'must be at most 10080 (one week)')
      .default(30),
    action: z
      .enum(['warn', 'stop'], {
        errorMap: () => ({
          message:
            'must be "warn" (a warning in the running cell and the log) or "stop" (the job ends failed)'
        })
      })
      .default('warn')
  })
  .strict();

export type IdleGpu = z.infer<typeof idleGpuSchema>;
