/**
 * The REST contract, defined once: every operation with the zod schemas of its parameters,
 * body and answers. Request validation (api/validate.ts), the OpenAPI document
 * (contract/document.ts) and the TypeScript types of the CLI and the labextension
 * (scripts/generate-api.mjs) all come from here.
 */
import type { Config } from '../../config/schema';
import type { Operation } from './operation';
import { checkpointOperations } from './checkpoints';
import { fileOperations } from './files';
import { infoOperations } from './info';
import { jobOperations } from './jobs';
import { notificationOperations } from './notifications';
import { pipelineOperations } from './pipelines';
import { retentionOperations } from './retention';
import { runnerOperations } from './runner';
import { scheduleOperations } from './schedules';

export function apiContract(config: Config, now?: () => Date) {
  const jobs = jobOperations(config, now);
  const pipelines = pipelineOperations(config, now);
  return {
    info: infoOperations(config),
    jobs,
    runner: runnerOperations(config),
    files: fileOperations(),
    checkpoints: checkpointOperations(),
    pipelines,
    // A schedule fires a job or a pipeline: the same bodies as POST /api/jobs and /api/pipelines.
    schedules: scheduleOperations(config, now, pipelines),
    retention: retentionOperations(config),
    notifications: notificationOperations(config)
  };
}

export type ApiContract = ReturnType<typeof apiContract>;

/** Every operation of the contract, in the order the document lists them. */
export function operationsOf(contract: ApiContract): Operation[] {
  return Object.values(contract).flatMap(group =>
    Object.values(group).filter(
      (op): op is Operation =>
        typeof op === 'object' && op !== null && 'method' in op
    )
  );
}

export { JOB_STATES, FINAL_STATES, ACTIVE_STATES } from './states';
export type { JobState } from './states';
export type { Operation } from './operation';
export type { Submission } from './submit';
export { submitSchema } from './submit';
