/**
 * The schedule and pipeline parts of the submit dialog, without a DOM: the
 * values the person edits, the REST bodies made from them, and the debounced
 * preview of a cron expression (`GET /api/schedules/preview`).
 */
import type * as nbformat from '@jupyterlab/nbformat';
import { ISignal, Signal } from '@lumino/signaling';

import { describe } from '../service/errors';
import type { IJobSubmit, ParameterValue } from '../service/model';
import type {
  IPipelineStepSubmit,
  IPipelineSubmit,
  ISchedulePreview,
  IScheduleSubmit,
  ScheduleMissed,
  ScheduleOverlap
} from '../service/scheduleModel';
import type { TranslationBundle } from '../translation';
import { jobNotebook } from './jobNotebook';

export interface IScheduleValues {
  cron: string;
  timezone: string;
  overlap: ScheduleOverlap;
  missed: ScheduleMissed;
}

/** A step after the open notebook: another notebook of the Jupyter contents. */
export interface IStepValues {
  path: string;
  profile: string;
  /** A JSON object, or empty for none. */
  parameters: string;
}

/** The browser's own time zone, as the sidecar names zones (IANA). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The IANA zones the browser knows, UTC first. */
export function knownTimeZones(): string[] {
  const intl = Intl as typeof Intl & {
    supportedValuesOf?: (key: 'timeZone') => string[];
  };
  const zones = intl.supportedValuesOf?.('timeZone') ?? [];
  return ['UTC', ...zones.filter(zone => zone !== 'UTC')];
}

export function defaultSchedule(): IScheduleValues {
  return {
    cron: '',
    timezone: browserTimeZone(),
    overlap: 'skip',
    missed: 'skip'
  };
}

/** `POST /api/schedules` for what Submit would send (a job or a pipeline). */
export function scheduleSubmit(
  values: IScheduleValues,
  name: string | undefined,
  target: { job: IJobSubmit } | { pipeline: IPipelineSubmit }
): IScheduleSubmit {
  return {
    ...(name ? { name } : {}),
    cron: values.cron.trim(),
    timezone: values.timezone.trim() || 'UTC',
    overlap: values.overlap,
    missed: values.missed,
    ...target
  };
}

/** A step name the sidecar accepts ([A-Za-z0-9_.-]{1,64}), unique among `taken`. */
export function stepName(path: string, taken: ReadonlySet<string>): string {
  const base =
    (path.split('/').pop() ?? '')
      .replace(/\.ipynb$/, '')
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .slice(0, 60) || 'step';
  let name = base;
  for (let n = 2; taken.has(name); n++) {
    name = `${base}-${n}`;
  }
  return name;
}

/** A step's parameters text: empty, or a JSON object; throws a sentence. */
export function stepParameters(
  step: IStepValues,
  trans: TranslationBundle
): Record<string, ParameterValue> | undefined {
  const text = step.parameters.trim();
  if (!text) {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    value = error;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(
      trans.__(
        'The parameters of step %1 must be a JSON object such as {"lr": 0.1}.',
        step.path
      )
    );
  }
  return value as Record<string, ParameterValue>;
}

/**
 * `POST /api/pipelines`: the open notebook's job as the first step, then each
 * added step in order (each waits for the one before it).
 */
export async function pipelineSubmit(
  first: IJobSubmit,
  steps: IStepValues[],
  readNotebook: (path: string) => Promise<nbformat.INotebookContent>,
  trans: TranslationBundle
): Promise<IPipelineSubmit> {
  const taken = new Set<string>();
  const firstStep: IPipelineStepSubmit = {
    name: stepName(first.notebook_path ?? '', taken),
    notebook: first.notebook,
    profile: first.profile,
    ...(first.notebook_path ? { notebook_path: first.notebook_path } : {}),
    ...(first.priority ? { priority: first.priority } : {}),
    ...(first.parameters ? { parameters: first.parameters } : {}),
    ...(first.environment ? { environment: first.environment } : {})
  };
  taken.add(firstStep.name);
  const rest: IPipelineStepSubmit[] = [];
  for (const step of steps) {
    const path = step.path.trim();
    if (!path) {
      throw new Error(trans.__('Name the notebook of every added step.'));
    }
    const parameters = stepParameters(step, trans);
    let content: nbformat.INotebookContent;
    try {
      content = await readNotebook(path);
    } catch (error) {
      throw new Error(trans.__('Could not read %1: %2', path, describe(error)));
    }
    const name = stepName(path, taken);
    taken.add(name);
    rest.push({
      name,
      // Outputs stripped as for the open notebook: a run starts clean.
      notebook: jobNotebook(content, []),
      notebook_path: path,
      profile: step.profile,
      ...(first.priority ? { priority: first.priority } : {}),
      ...(parameters ? { parameters } : {})
    });
  }
  return {
    ...(first.name ? { name: first.name } : {}),
    steps: [firstStep, ...rest]
  };
}

/** What the preview line says. */
export type PreviewState =
  | { status: 'empty' }
  | { status: 'loading' }
  | { status: 'ok'; preview: ISchedulePreview }
  | { status: 'error'; message: string };

/**
 * Asks the sidecar to describe a cron expression once the person stops
 * typing; answers to older requests are dropped.
 */
export class SchedulePreview {
  constructor(
    private readonly _fetch: (
      cron: string,
      timezone: string
    ) => Promise<ISchedulePreview>,
    private readonly _delayMs = 300
  ) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get state(): PreviewState {
    return this._state;
  }

  request(cron: string, timezone: string): void {
    window.clearTimeout(this._timer);
    const generation = ++this._generation;
    if (!cron.trim()) {
      this._set({ status: 'empty' });
      return;
    }
    this._set({ status: 'loading' });
    this._timer = window.setTimeout(() => {
      this._fetch(cron.trim(), timezone.trim() || 'UTC').then(
        preview => {
          if (generation === this._generation) {
            this._set({ status: 'ok', preview });
          }
        },
        error => {
          if (generation === this._generation) {
            this._set({ status: 'error', message: describe(error) });
          }
        }
      );
    }, this._delayMs);
  }

  dispose(): void {
    window.clearTimeout(this._timer);
    Signal.clearData(this);
  }

  private _set(state: PreviewState): void {
    this._state = state;
    this._changed.emit();
  }

  private _state: PreviewState = { status: 'empty' };
  private _timer = 0;
  private _generation = 0;
  private _changed = new Signal<this, void>(this);
}

/** "Tue 1 Dec 03:00": a firing time, in the schedule's time zone. */
export function formatFiring(iso: string, timezone: string): string {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat(undefined, {
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZone: timezone || 'UTC'
    });
  } catch {
    return iso;
  }
  const parts = Object.fromEntries(
    format.formatToParts(new Date(iso)).map(part => [part.type, part.value])
  );
  return `${parts.weekday} ${parts.day} ${parts.month} ${parts.hour}:${parts.minute}`;
}

/** The preview line: "every day at 03:00 Europe/Berlin; next: Tue 1 Dec 03:00". */
export function previewText(
  preview: ISchedulePreview,
  timezone: string,
  trans: TranslationBundle
): string {
  const next = preview.next[0];
  return next
    ? trans.__(
        '%1; next: %2',
        preview.description,
        formatFiring(next, timezone)
      )
    : preview.description;
}
