/**
 * The Schedules tab: each schedule with its description, next run, last run
 * and its job, whether it is paused; pause/resume, run now, delete.
 */
import * as React from 'react';

import type { ISchedule } from '../service/scheduleModel';
import type { TranslationBundle } from '../translation';
import { useModel } from './hooks';
import type { ScheduleAction, SchedulesModel } from './schedules';

function when(iso: string | null, trans: TranslationBundle): string {
  return iso ? new Date(iso).toLocaleString() : trans.__('never');
}

export function SchedulesView(props: {
  model: SchedulesModel;
  /** Opens a job of the Jobs panel (the last run's). */
  openJob: (id: string) => void;
  /** Asks before deleting. */
  confirm: (message: string) => Promise<boolean>;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  useModel(model);
  const act = async (schedule: ISchedule, action: ScheduleAction) => {
    if (
      action === 'delete' &&
      !(await props.confirm(
        trans.__('Delete schedule %1? Its past jobs stay.', schedule.name)
      ))
    ) {
      return;
    }
    await model.act(schedule, action);
  };
  const labels: Record<ScheduleAction, string> = {
    pause: trans.__('Pause'),
    resume: trans.__('Resume'),
    'run-now': trans.__('Run now'),
    delete: trans.__('Delete')
  };
  return (
    <div className="nbq-SchedulesView">
      {model.error && (
        <div className="nbq-JobsPanel-error" role="alert">
          {model.error}
        </div>
      )}
      {model.loaded && model.schedules.length === 0 && (
        <div className="nbq-JobsPanel-empty">
          {trans.__(
            'No schedules. Press “Schedule…” in the submit dialog of a notebook.'
          )}
        </div>
      )}
      <ul className="nbq-SchedulesView-list">
        {model.schedules.map(schedule => {
          const last = schedule.last_job_id ?? schedule.last_pipeline_id;
          const actions: ScheduleAction[] = [
            schedule.paused ? 'resume' : 'pause',
            'run-now',
            'delete'
          ];
          return (
            <li
              key={schedule.id}
              className="nbq-ScheduleRow"
              data-schedule-id={schedule.id}
              data-paused={schedule.paused}
            >
              <div className="nbq-JobRow-line">
                <span className="nbq-ScheduleRow-name" title={schedule.cron}>
                  {schedule.name}
                </span>
                {schedule.paused && (
                  <span className="nbq-ScheduleRow-paused">
                    {trans.__('paused')}
                  </span>
                )}
              </div>
              <div className="nbq-ScheduleRow-description">
                {schedule.description}
              </div>
              <div className="nbq-JobRow-details">
                <span className="nbq-ScheduleRow-next">
                  {trans.__('next: %1', when(schedule.next_run_at, trans))}
                </span>
                <span className="nbq-ScheduleRow-last">
                  {trans.__('last: %1', when(schedule.last_run_at, trans))}
                </span>
                {schedule.last_job_id && (
                  <button
                    type="button"
                    className="nbq-ScheduleRow-lastJob"
                    title={trans.__('Show the job of the last run')}
                    onClick={() => props.openJob(schedule.last_job_id!)}
                  >
                    {schedule.last_job_id}
                  </button>
                )}
                {!schedule.last_job_id && last && (
                  <span className="nbq-ScheduleRow-lastJob">{last}</span>
                )}
              </div>
              <div className="nbq-JobRow-actions">
                {actions.map(action => (
                  <button
                    key={action}
                    type="button"
                    className="nbq-JobRow-action"
                    data-action={action}
                    onClick={() => void act(schedule, action)}
                  >
                    {labels[action]}
                  </button>
                ))}
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
