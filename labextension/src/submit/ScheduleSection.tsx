/**
 * The submit dialog's schedule section, shown by "Schedule…": a cron
 * expression, its time zone, what to do on overlap and on missed firings,
 * the sidecar's description of it, and "Create schedule".
 */
import * as React from 'react';

import {
  MISSED_VALUES,
  OVERLAP_VALUES,
  ScheduleMissed,
  ScheduleOverlap
} from '../service/scheduleModel';
import type { TranslationBundle } from '../translation';
import {
  IScheduleValues,
  knownTimeZones,
  PreviewState,
  previewText
} from './schedule';

function overlapLabels(
  trans: TranslationBundle
): Record<ScheduleOverlap, string> {
  return {
    skip: trans.__('skip this run'),
    queue: trans.__('queue it after the previous'),
    cancel_previous: trans.__('cancel the previous run')
  };
}

function missedLabels(
  trans: TranslationBundle
): Record<ScheduleMissed, string> {
  return {
    skip: trans.__('skip them'),
    run_once: trans.__('run once')
  };
}

export function ScheduleSection(props: {
  values: IScheduleValues;
  preview: PreviewState;
  onChange: (change: Partial<IScheduleValues>) => void;
  onCreate: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { values, preview, onChange, trans } = props;
  const zones = React.useMemo(() => knownTimeZones(), []);
  const overlap = overlapLabels(trans);
  const missed = missedLabels(trans);
  return (
    <fieldset className="nbq-ScheduleSection">
      <legend>{trans.__('Schedule')}</legend>
      <label className="nbq-SubmitDialog-field">
        <span>{trans.__('Cron expression')}</span>
        <input
          name="cron"
          className="jp-mod-styled"
          type="text"
          placeholder="0 3 * * *"
          title={trans.__(
            'Five fields: minute, hour, day of month, month, day of week'
          )}
          value={values.cron}
          onChange={event => onChange({ cron: event.target.value })}
        />
      </label>
      <label className="nbq-SubmitDialog-field">
        <span>{trans.__('Time zone')}</span>
        <input
          name="timezone"
          className="jp-mod-styled"
          type="text"
          list="nbq-timezones"
          value={values.timezone}
          onChange={event => onChange({ timezone: event.target.value })}
        />
        <datalist id="nbq-timezones">
          {zones.map(zone => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
      </label>
      <label className="nbq-SubmitDialog-field">
        <span>{trans.__('If the previous run has not ended')}</span>
        <select
          name="overlap"
          className="jp-mod-styled"
          value={values.overlap}
          onChange={event =>
            onChange({ overlap: event.target.value as ScheduleOverlap })
          }
        >
          {OVERLAP_VALUES.map(value => (
            <option key={value} value={value}>
              {overlap[value]}
            </option>
          ))}
        </select>
      </label>
      <label className="nbq-SubmitDialog-field">
        <span>{trans.__('Runs missed while the sidecar was down')}</span>
        <select
          name="missed"
          className="jp-mod-styled"
          value={values.missed}
          onChange={event =>
            onChange({ missed: event.target.value as ScheduleMissed })
          }
        >
          {MISSED_VALUES.map(value => (
            <option key={value} value={value}>
              {missed[value]}
            </option>
          ))}
        </select>
      </label>
      <PreviewLine preview={preview} timezone={values.timezone} trans={trans} />
      <button
        type="button"
        className="jp-mod-styled jp-mod-accept nbq-ScheduleSection-create"
        onClick={props.onCreate}
      >
        {trans.__('Create schedule')}
      </button>
    </fieldset>
  );
}

function PreviewLine(props: {
  preview: PreviewState;
  timezone: string;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { preview, timezone, trans } = props;
  switch (preview.status) {
    case 'empty':
      return (
        <p className="nbq-SchedulePreview nbq-SubmitDialog-hint">
          {trans.__('Type a cron expression, such as 0 3 * * * (03:00 daily).')}
        </p>
      );
    case 'loading':
      return (
        <p className="nbq-SchedulePreview nbq-mod-loading">
          {trans.__('Reading the expression…')}
        </p>
      );
    case 'ok':
      return (
        <p className="nbq-SchedulePreview">
          {previewText(preview.preview, timezone, trans)}
        </p>
      );
    case 'error':
      return (
        <p className="nbq-SchedulePreview nbq-SubmitDialog-error" role="alert">
          {preview.message}
        </p>
      );
  }
}
