/**
 * The "Submit to GPU queue" dialog: a JupyterLab `Dialog` whose Submit button
 * posts the job and keeps the dialog open, values intact, when the sidecar
 * refuses it.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { describe } from '../service/errors';
import type { IJob, IPriorities, IProfile, Priority } from '../service/model';
import type { IPipeline, ISchedule } from '../service/scheduleModel';
import { nbqueueBundle, TranslationBundle } from '../translation';
import { EnvironmentProbe, EnvironmentSection } from './EnvironmentSection';
import type { FilesProbe } from './files';
import { FilesSection } from './FilesSection';
import { profileLabel } from './format';
import { groupProfiles } from './profileGroups';
import type { IParameterRow } from './parameters';
import {
  defaultSchedule,
  IScheduleValues,
  IStepValues,
  SchedulePreview
} from './schedule';
import { ScheduleSection } from './ScheduleSection';
import { StepsSection } from './StepsSection';

export interface ISubmitValues {
  profile: string;
  priority: Priority;
  name: string;
  parameters: IParameterRow[];
  stream: boolean;
  /** Set once "Schedule…" revealed the schedule section. */
  schedule?: IScheduleValues | null;
  /** The steps after this notebook's ("Add step"): a pipeline when any. */
  steps?: IStepValues[];
}

export namespace SubmitForm {
  export interface IOptions {
    /** Values shown first; `profile` is used when that profile exists. */
    initial: ISubmitValues;
    loadProfiles: () => Promise<IProfile[]>;
    /** The priority classes the sidecar offers this user (`GET /api/info`). */
    loadPriorities: () => Promise<IPriorities>;
    /** Captures the kernel's environment for the "Environment" line. */
    environment?: EnvironmentProbe;
    /** Lists the notebook's folder for the "Files" line. */
    files?: FilesProbe;
    /** The texts of the form. */
    trans?: TranslationBundle;
    /** Describes cron expressions: given, the form can show a schedule section. */
    preview?: SchedulePreview;
    /** Whether "Add step" builds a pipeline. */
    steps?: boolean;
  }
}

/** The dialog body; holds the values while the user edits them. */
export class SubmitForm extends ReactWidget {
  constructor(options: SubmitForm.IOptions) {
    super();
    this.addClass('nbq-SubmitDialog');
    this._trans = options.trans ?? nbqueueBundle();
    this._values = { ...options.initial };
    this._environment = options.environment ?? null;
    this._environment?.changed.connect(() => this.update());
    this._files = options.files ?? null;
    this._files?.changed.connect(() => this.update());
    this._preview = options.preview ?? null;
    this._preview?.changed.connect(() => this.update());
    this._stepsEnabled = options.steps ?? false;
    options.loadPriorities().then(
      priorities => {
        this._priorities = priorities.allowed;
        if (!priorities.allowed.includes(this._values.priority)) {
          this._values.priority = priorities.allowed.includes(
            priorities.default
          )
            ? priorities.default
            : (priorities.allowed[0] ?? this._values.priority);
        }
        this.update();
      },
      error => {
        this._loadError = describe(error);
        this.update();
      }
    );
    options.loadProfiles().then(
      profiles => {
        this._profiles = profiles;
        if (!profiles.some(p => p.name === this._values.profile)) {
          this._values.profile = profiles[0]?.name ?? '';
        }
        this.update();
      },
      error => {
        this._loadError = describe(error);
        this.update();
      }
    );
  }

  getValue(): ISubmitValues {
    return {
      ...this._values,
      parameters: this._values.parameters.map(row => ({ ...row })),
      ...(this._values.schedule
        ? { schedule: { ...this._values.schedule } }
        : {}),
      ...(this._values.steps
        ? { steps: this._values.steps.map(step => ({ ...step })) }
        : {})
    };
  }

  /** Reveal the schedule section ("Schedule…"). */
  showSchedule(): void {
    if (this._preview && !this._values.schedule) {
      this._values = { ...this._values, schedule: defaultSchedule() };
      this.update();
    }
  }

  /** Called by the schedule section's "Create schedule". */
  onCreateSchedule: (() => void) | null = null;

  /** Why submitting cannot start yet, or null when it can. */
  get notReady(): string | null {
    if (this._loadError) {
      return this._loadError;
    }
    if (!this._profiles) {
      return this._trans.__('Profiles are still loading.');
    }
    if (!this._values.profile) {
      return this._trans.__('The nbqueue sidecar offers no resource profile.');
    }
    if (this._files?.problem) {
      return this._files.problem;
    }
    return null;
  }

  /** Show a refusal (or clear it with null) and whether a submit runs. */
  setStatus(error: string | null, submitting: boolean): void {
    this._error = error;
    this._submitting = submitting;
    this.update();
  }

  protected render(): React.ReactElement {
    const trans = this._trans;
    const values = this._values;
    const set = (change: Partial<ISubmitValues>) => {
      this._values = { ...this._values, ...change };
      this.update();
    };
    const setRow = (index: number, change: Partial<IParameterRow>) => {
      const parameters = values.parameters.map((row, i) =>
        i === index ? { ...row, ...change } : row
      );
      set({ parameters });
    };
    return (
      <form
        className="nbq-SubmitDialog-form"
        onSubmit={event => event.preventDefault()}
      >
        <label className="nbq-SubmitDialog-field">
          <span>{trans.__('Resource profile')}</span>
          {this._renderProfiles()}
        </label>
        <label className="nbq-SubmitDialog-field">
          <span>{trans.__('Priority')}</span>
          <select
            name="priority"
            className="jp-mod-styled"
            value={values.priority}
            onChange={event =>
              set({ priority: event.target.value as Priority })
            }
          >
            {(this._priorities ?? [values.priority]).map(priority => (
              <option key={priority} value={priority}>
                {priority}
              </option>
            ))}
          </select>
        </label>
        <label className="nbq-SubmitDialog-field">
          <span>{trans.__('Job name')}</span>
          <input
            name="name"
            className="jp-mod-styled"
            type="text"
            value={values.name}
            onChange={event => set({ name: event.target.value })}
          />
        </label>
        <fieldset className="nbq-SubmitDialog-parameters">
          <legend>{trans.__('Parameters')}</legend>
          {values.parameters.length === 0 && (
            <p className="nbq-SubmitDialog-hint">
              {trans.__('No parameters. Tag a cell')} <code>parameters</code>{' '}
              {trans.__('to have its')} <code>name = value</code>{' '}
              {trans.__('lines offered here.')}
            </p>
          )}
          {values.parameters.map((row, index) => (
            <div className="nbq-Parameter" key={index}>
              <input
                name="param-name"
                className="jp-mod-styled"
                type="text"
                aria-label={trans.__('Parameter name')}
                value={row.name}
                onChange={event => setRow(index, { name: event.target.value })}
              />
              <span>=</span>
              <input
                name="param-value"
                className="jp-mod-styled"
                type="text"
                aria-label={trans.__('Value of %1', row.name)}
                title={trans.__(
                  'Sent as JSON when it parses as JSON, else as a string'
                )}
                value={row.text}
                onChange={event => setRow(index, { text: event.target.value })}
              />
              <button
                type="button"
                className="jp-mod-styled nbq-Parameter-remove"
                title={trans.__('Remove this parameter')}
                onClick={() =>
                  set({
                    parameters: values.parameters.filter((_, i) => i !== index)
                  })
                }
              >
                ×
              </button>
            </div>
          ))}
          <button
            type="button"
            className="jp-mod-styled nbq-SubmitDialog-addParameter"
            onClick={() =>
              set({
                parameters: [...values.parameters, { name: '', text: '' }]
              })
            }
          >
            {trans.__('Add parameter')}
          </button>
        </fieldset>
        {this._stepsEnabled && (
          <StepsSection
            steps={values.steps ?? []}
            profiles={this._profiles ?? []}
            defaultProfile={values.profile}
            onChange={steps => set({ steps })}
            trans={trans}
          />
        )}
        {this._preview && values.schedule && (
          <ScheduleSection
            values={values.schedule}
            preview={this._preview.state}
            onChange={change => {
              // The current values: several changes may come before a render.
              const schedule = { ...this._values.schedule!, ...change };
              set({ schedule });
              this._preview!.request(schedule.cron, schedule.timezone);
            }}
            onCreate={() => this.onCreateSchedule?.()}
            trans={trans}
          />
        )}
        {this._environment && (
          <EnvironmentSection probe={this._environment} trans={trans} />
        )}
        {this._files && <FilesSection probe={this._files} trans={trans} />}
        <label className="nbq-SubmitDialog-check">
          <input
            name="stream"
            type="checkbox"
            checked={values.stream}
            onChange={event => set({ stream: event.target.checked })}
          />
          <span>{trans.__('Stream outputs into this notebook')}</span>
        </label>
        <p className="nbq-SubmitDialog-note">
          {trans.__(
            "The notebook's current code is submitted, unsaved edits included; its outputs stay here, as the job starts from a clean slate."
          )}
        </p>
        {this._submitting && (
          <p className="nbq-SubmitDialog-progress">{trans.__('Submitting…')}</p>
        )}
        {this._error && (
          <p
            className="nbq-SubmitDialog-error"
            role="alert"
            // The form scrolls; the message must not stay below the fold.
            ref={node => node?.scrollIntoView?.({ block: 'nearest' })}
          >
            {this._error}
          </p>
        )}
      </form>
    );
  }

  private _renderProfiles(): React.ReactElement {
    const trans = this._trans;
    if (this._loadError) {
      return (
        <p className="nbq-SubmitDialog-error" role="alert">
          {trans.__('Could not load the profiles: %1', this._loadError)}
        </p>
      );
    }
    if (!this._profiles) {
      return (
        <span className="nbq-SubmitDialog-loading">
          <span className="nbq-Spinner" aria-hidden="true" />
          {trans.__('Loading profiles…')}
        </span>
      );
    }
    const groups = groupProfiles(this._profiles, trans);
    const option = (profile: IProfile) => (
      <option
        key={profile.name}
        value={profile.name}
        title={profile.description}
      >
        {profileLabel(profile, trans)}
      </option>
    );
    return (
      <select
        name="profile"
        className="jp-mod-styled"
        value={this._values.profile}
        onChange={event => {
          this._values = { ...this._values, profile: event.target.value };
          this.update();
        }}
      >
        {groups
          ? groups.map(group => (
              <optgroup key={group.key} label={group.label}>
                {group.profiles.map(option)}
              </optgroup>
            ))
          : this._profiles.map(option)}
      </select>
    );
  }

  private _trans: TranslationBundle;
  private _values: ISubmitValues;
  private _environment: EnvironmentProbe | null;
  private _files: FilesProbe | null;
  private _preview: SchedulePreview | null;
  private _stepsEnabled: boolean;
  private _profiles: IProfile[] | null = null;
  private _priorities: string[] | null = null;
  private _loadError: string | null = null;
  private _error: string | null = null;
  private _submitting = false;
}

const SUBMIT_INDEX = 1;
const SCHEDULE_INDEX = 2;

/**
 * The dialog; `submit` runs on Submit and the dialog closes only when it
 * succeeds. `job` holds its answer afterwards.
 */
export class SubmitDialog extends Dialog<ISubmitValues> {
  constructor(
    private readonly _form: SubmitForm,
    private readonly _submit: (
      values: ISubmitValues
    ) => Promise<IJob | IPipeline>,
    trans: TranslationBundle = nbqueueBundle(),
    private readonly _createSchedule?: (
      values: ISubmitValues
    ) => Promise<ISchedule>
  ) {
    super({
      title: trans.__('Submit to GPU queue'),
      body: _form,
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({
          label: trans.__('Submit'),
          ariaLabel: trans.__('Submit')
        }),
        ...(_createSchedule
          ? [
              Dialog.createButton({
                label: trans.__('Schedule…'),
                ariaLabel: trans.__('Schedule…'),
                caption: trans.__('Run this on a schedule instead of now'),
                className: 'nbq-SubmitDialog-schedule'
              })
            ]
          : [])
      ],
      defaultButton: SUBMIT_INDEX,
      hasClose: true
    });
    this.addClass('nbq-SubmitDialogHost');
    _form.onCreateSchedule = () => {
      const create = this._createSchedule;
      if (create) {
        this._run(values =>
          create(values).then(schedule => {
            this.schedule = schedule;
          })
        );
      }
    };
  }

  job: IJob | null = null;
  /** The pipeline Submit started, when the dialog had steps. */
  pipeline: IPipeline | null = null;
  /** The schedule "Create schedule" made. */
  schedule: ISchedule | null = null;

  resolve(index?: number): void {
    if (index === SCHEDULE_INDEX && this._createSchedule) {
      this._form.showSchedule();
      return;
    }
    if ((index ?? SUBMIT_INDEX) !== SUBMIT_INDEX) {
      super.resolve(index);
      return;
    }
    this._run(values =>
      this._submit(values).then(submitted => {
        if ('steps' in submitted) {
          this.pipeline = submitted;
        } else {
          this.job = submitted;
        }
      })
    );
  }

  /** Runs one request; closes the dialog when it works, shows why when not. */
  private _run(request: (values: ISubmitValues) => Promise<void>): void {
    if (this._busy) {
      return;
    }
    const notReady = this._form.notReady;
    if (notReady) {
      this._form.setStatus(notReady, false);
      return;
    }
    this._busy = true;
    this._form.setStatus(null, true);
    request(this._form.getValue()).then(
      () => {
        this._busy = false;
        super.resolve(SUBMIT_INDEX);
      },
      error => {
        this._busy = false;
        this._form.setStatus(describe(error), false);
      }
    );
  }

  private _busy = false;
}
