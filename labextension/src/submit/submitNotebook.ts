/**
 * What "Submit to GPU queue" does with the notebook panel it acts on.
 */
import { Notification } from '@jupyterlab/apputils';
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { defaultJobName } from '@nbqueue/common';

import type { IJob, IJobSubmit } from '../service/model';
import type { IPipelineSubmit } from '../service/scheduleModel';
import type { INbqueueService, ISettings } from '../tokens';
import { nbqueueBundle, TranslationBundle } from '../translation';
import { EnvironmentProbe } from './EnvironmentSection';
import { fetchManifest, FilesProbe, uploadBundle } from './files';
import { jobNotebook } from './jobNotebook';
import { parametersFromNotebook, parametersFromRows } from './parameters';
import { pipelineSubmit, SchedulePreview, scheduleSubmit } from './schedule';
import { ISubmitValues, SubmitDialog, SubmitForm } from './SubmitDialog';

export interface ISubmitDeps {
  service: INbqueueService;
  settings: ISettings;
  /** Called for a job the user asked to stream into the notebook. */
  follow: (job: IJob, panel: NotebookPanel) => Promise<void>;
  /** Called for every queued job, to notify its end. */
  watch: (job: IJob) => void;
  /** A notebook of the Jupyter contents, for the steps of a pipeline. */
  readNotebook?: (path: string) => Promise<nbformat.INotebookContent>;
  /** The texts of the dialog and notifications. */
  trans?: TranslationBundle;
}

/** Open the submit dialog for this notebook; resolves with the queued job. */
export async function submitNotebook(
  panel: NotebookPanel,
  deps: ISubmitDeps
): Promise<IJob | null> {
  const { service, settings } = deps;
  const trans = deps.trans ?? nbqueueBundle();
  const model = panel.context.model;
  const environment = new EnvironmentProbe(
    panel.sessionContext,
    undefined,
    trans
  );
  void environment.capture();
  // The notebook's folder goes with the job; the server extension lists it.
  const files = new FilesProbe(() =>
    fetchManifest(service.serverSettings, panel.context.path, trans)
  );
  void files.load();
  const preview = new SchedulePreview((cron, timezone) =>
    service.schedules.preview(cron, timezone)
  );
  const readNotebook = deps.readNotebook;
  const form = new SubmitForm({
    initial: {
      profile: settings.defaultProfile,
      priority: settings.defaultPriority,
      name: defaultJobName(panel.context.path, new Date()),
      parameters: parametersFromNotebook(
        (model.toJSON() as nbformat.INotebookContent).cells
      ),
      stream: settings.streamOutputs
    },
    loadProfiles: () => service.getProfiles(),
    loadPriorities: async () => (await service.getInfo()).priorities,
    environment,
    files,
    preview,
    steps: readNotebook !== undefined,
    trans
  });
  const capture: { warning: string | null } = { warning: null };
  /** The body Submit sends: a job, or a pipeline when the dialog has steps. */
  const body = async (
    values: ISubmitValues
  ): Promise<{ job: IJobSubmit } | { pipeline: IPipelineSubmit }> => {
    const { submit, envError } = await buildSubmit(panel, values, environment);
    capture.warning = envError;
    await files.settled();
    if (files.bundles) {
      const bundle = await uploadBundle(
        service.serverSettings,
        panel.context.path,
        service,
        trans
      );
      submit.input_bundle = bundle.id;
    }
    if (readNotebook && values.steps?.length) {
      const pipeline = await pipelineSubmit(
        submit,
        values.steps,
        readNotebook,
        trans
      );
      return { pipeline };
    }
    return { job: submit };
  };
  const dialog = new SubmitDialog(
    form,
    async values => {
      const target = await body(values);
      return 'pipeline' in target
        ? service.pipelines.submit(target.pipeline)
        : service.submitJob(target.job);
    },
    trans,
    async values =>
      service.schedules.create(
        scheduleSubmit(
          values.schedule!,
          values.name.trim() || undefined,
          await body(values)
        )
      )
  );
  const result = await dialog.launch();
  preview.dispose();
  if (result.button.accept && dialog.schedule) {
    const schedule = dialog.schedule;
    Notification.success(
      trans.__('Schedule %1 created: %2', schedule.name, schedule.description),
      { autoClose: 5000 }
    );
    return null;
  }
  if (result.button.accept && dialog.pipeline) {
    Notification.success(
      trans.__('Pipeline %1 started', dialog.pipeline.name),
      { autoClose: 5000 }
    );
    return null;
  }
  const job = dialog.job;
  if (!result.button.accept || !job) {
    return null;
  }
  Notification.success(
    job.position
      ? trans.__('Job %1 queued (position %2)', job.name, job.position)
      : trans.__('Job %1 queued', job.name),
    { autoClose: 5000 }
  );
  if (capture.warning) {
    Notification.warning(
      trans.__(
        "The kernel's environment was not captured (%1); the job runs with the sidecar's default Python.",
        capture.warning
      ),
      { autoClose: 10000 }
    );
  }
  deps.watch(job);
  if (result.value?.stream) {
    await deps.follow(job, panel);
  }
  return job;
}

/** The POST body for the notebook's current content, unsaved edits included. */
async function buildSubmit(
  panel: NotebookPanel,
  values: ISubmitValues,
  environment: EnvironmentProbe
): Promise<{ submit: IJobSubmit; envError: string | null }> {
  const submit: IJobSubmit = {
    notebook: currentNotebook(panel),
    name: values.name.trim() || undefined,
    profile: values.profile,
    priority: values.priority,
    parameters: parametersFromRows(values.parameters),
    notebook_path: panel.context.path
  };
  const state = await environment.settled();
  if (state.status === 'failed') {
    console.warn('nbqueue: kernel environment not captured', state.error);
    return { submit, envError: state.error };
  }
  if (state.status !== 'captured') {
    // Without a kernel the sidecar falls back to its own Python and cwd.
    return { submit, envError: null };
  }
  const env = state.env;
  submit.cwd = env.cwd;
  submit.kernel = { name: env.name, python: env.python };
  submit.environment = env.environment;
  return { submit, envError: null };
}

/** What the job runs: the current model, unsaved edits included, outputs not. */
export function currentNotebook(
  panel: NotebookPanel
): nbformat.INotebookContent {
  const model = panel.context.model;
  return jobNotebook(
    model.toJSON() as nbformat.INotebookContent,
    model.sharedModel.cells.map(cell => cell.id)
  );
}
