/** The states of a job: the one list the server, the CLI and the labextension use. */
export const JOB_STATES = [
  'queued',
  'starting',
  'running',
  'succeeded',
  'failed',
  'cancelled'
] as const;

export type JobState = (typeof JOB_STATES)[number];

/** The states a job ends in, in the order they are listed (the runner finishes it in one). */
export const FINAL_STATE_LIST = [
  'succeeded',
  'failed',
  'cancelled'
] as const satisfies readonly JobState[];

export type FinalState = (typeof FINAL_STATE_LIST)[number];

/** A job in one of these has ended: it never changes state again. */
export const FINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(
  FINAL_STATE_LIST
);

/** A job in one of these holds its profile's capacity. */
export const ACTIVE_STATES: ReadonlySet<JobState> = new Set<JobState>([
  'starting',
  'running'
]);
