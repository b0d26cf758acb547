/**
 * The "nbqueue jobs" sidebar: the user's jobs (admins: everyone's) with state,
 * queue, position, ETA, elapsed time, profile and owner, live; filters; the
 * actions of each job; drag and drop (or "to front" / "to back") to reorder
 * one's own queued jobs; ticks to compare metrics.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { queueIcon } from '../icons';
import type { IJob } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';
import type { JobActions } from './actions';
import type { JobsModel } from './model';
import { dropPlacement } from './reorder';
import {
  IJobRow,
  JobAction,
  STATE_FILTERS,
  StateFilter,
  stateFilterLabels,
  stateLabels,
  statusText
} from './rows';

const DRAG_TYPE = 'application/x-nbqueue-job';

/** The text of each action's button. */
function actionLabels(trans: TranslationBundle): Record<JobAction, string> {
  return {
    cancel: trans.__('Cancel'),
    hold: trans.__('Hold'),
    release: trans.__('Release'),
    front: trans.__('To front'),
    back: trans.__('To back'),
    priority: trans.__('Priority ▾'),
    move: trans.__('Move ▾'),
    rerun: trans.__('Re-run ▾'),
    live: trans.__('Live view'),
    result: trans.__('Result'),
    files: trans.__('Save files'),
    error: trans.__('Error'),
    log: trans.__('Log'),
    metrics: trans.__('Metrics')
  };
}

export class JobsPanel extends ReactWidget {
  constructor(
    model: JobsModel,
    actions: JobActions,
    trans: TranslationBundle = nbqueueBundle()
  ) {
    super();
    this._model = model;
    this._actions = actions;
    this._trans = trans;
    this.id = 'nbqueue-jobs';
    this.addClass('nbq-JobsPanel');
    this.title.icon = queueIcon;
    this.title.caption = trans.__('nbqueue jobs');
  }

  render(): JSX.Element {
    return (
      <JobsView
        model={this._model}
        actions={this._actions}
        trans={this._trans}
      />
    );
  }

  private _model: JobsModel;
  private _actions: JobActions;
  private _trans: TranslationBundle;
}

function useModel(model: JobsModel): number {
  const [version, setVersion] = React.useState(0);
  React.useEffect(() => {
    const bump = () => setVersion(v => v + 1);
    model.changed.connect(bump);
    return () => {
      model.changed.disconnect(bump);
    };
  }, [model]);
  return version;
}

/** The current time, once a second while something ticks. */
function useNow(ticking: boolean): number {
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    if (!ticking) {
      return;
    }
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [ticking]);
  return ticking ? now : Date.now();
}

function JobsView(props: {
  model: JobsModel;
  actions: JobActions;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, actions, trans } = props;
  const labels = React.useMemo(() => actionLabels(trans), [trans]);
  const states = React.useMemo(() => stateLabels(trans), [trans]);
  const filters = React.useMemo(() => stateFilterLabels(trans), [trans]);
  useModel(model);
  const anyRunning = model.jobs.some(
    job => job.state === 'running' || job.state === 'starting'
  );
  const now = useNow(anyRunning);
  const rows = model.rows(now);
  const [drag, setDrag] = React.useState<{
    id: string;
    over: string | null;
    placement: 'before' | 'after';
  } | null>(null);

  const run = (action: JobAction, job: IJob, event: React.MouseEvent) => {
    switch (action) {
      case 'cancel':
        return void actions.cancel(job);
      case 'hold':
        return void actions.hold(job);
      case 'release':
        return void actions.release(job);
      case 'front':
        return void actions.reorder(job, { to: 'front' });
      case 'back':
        return void actions.reorder(job, { to: 'back' });
      case 'priority':
      case 'move':
      case 'rerun': {
        const rect = (event.target as HTMLElement).getBoundingClientRect();
        return actions.openMenu(action, job, rect.left, rect.bottom);
      }
      case 'live':
        return void actions.openLive(job);
      case 'result':
        return void actions.openResult(job);
      case 'files':
        return void actions.saveFiles(job);
      case 'error':
        return actions.showError(job);
      case 'log':
        return actions.showLog(job);
      case 'metrics':
        return actions.showMetrics([job]);
    }
  };

  const selected = [...model.selected]
    .map(id => model.get(id))
    .filter((job): job is IJob => job !== undefined);

  const onDrop = (row: IJobRow, event: React.DragEvent) => {
    event.preventDefault();
    const dragged = event.dataTransfer.getData(DRAG_TYPE) || drag?.id;
    setDrag(null);
    if (!dragged) {
      return;
    }
    const placement = dropPlacement(
      event.clientY,
      event.currentTarget.getBoundingClientRect()
    );
    const target = model.reorderIntent(dragged, row.id, placement);
    const job = model.get(dragged);
    if (target && job) {
      void actions.reorder(job, target);
    }
  };

  return (
    <div className="nbq-JobsPanel-content">
      <div className="nbq-JobsPanel-header">
        <h2 className="nbq-JobsPanel-title">{trans.__('nbqueue jobs')}</h2>
        <span className="nbq-JobsPanel-summary">
          {model.loaded ? statusText(model.counts(), trans) : ''}
        </span>
        <button
          type="button"
          className="jp-mod-styled jp-mod-reject nbq-JobsPanel-refresh"
          title={trans.__('Read the jobs again from the sidecar')}
          onClick={() => void model.refresh()}
        >
          {trans.__('Refresh')}
        </button>
      </div>
      <div className="nbq-JobsPanel-filters">
        <label>
          {trans.__('State')}{' '}
          <select
            name="state-filter"
            value={model.stateFilter}
            onChange={e =>
              (model.stateFilter = e.currentTarget.value as StateFilter)
            }
          >
            {STATE_FILTERS.map(state => (
              <option key={state} value={state}>
                {filters[state]}
              </option>
            ))}
          </select>
        </label>
        <label>
          {trans.__('Queue')}{' '}
          <select
            name="queue-filter"
            value={model.queueFilter}
            onChange={e => (model.queueFilter = e.currentTarget.value)}
          >
            <option value="">{trans.__('all')}</option>
            {model.queues.map(queue => (
              <option key={queue.name} value={queue.name}>
                {queue.name}
              </option>
            ))}
          </select>
        </label>
        {model.isAdmin && (
          <label title={trans.__("Admins: show every user's jobs")}>
            <input
              type="checkbox"
              name="all-users"
              checked={model.showAll}
              onChange={e => (model.showAll = e.currentTarget.checked)}
            />{' '}
            {trans.__('all users')}
          </label>
        )}
        <button
          type="button"
          className="jp-mod-styled jp-mod-accept nbq-JobsPanel-compare"
          disabled={selected.length === 0}
          title={trans.__('Overlay the metrics of the ticked jobs')}
          onClick={() => actions.showMetrics(selected)}
        >
          {trans.__('Compare metrics (%1)', selected.length)}
        </button>
      </div>
      {model.error && (
        <div className="nbq-JobsPanel-error" role="alert">
          {model.error}
        </div>
      )}
      {model.loaded && rows.length === 0 && (
        <div className="nbq-JobsPanel-empty">
          {trans.__('No jobs here. Press “Submit to GPU queue” in a notebook.')}
        </div>
      )}
      <ul className="nbq-JobsPanel-list">
        {rows.map(row => {
          const job = model.get(row.id)!;
          const draggable = row.own && row.state === 'queued';
          const dropClass =
            drag && drag.over === row.id && drag.id !== row.id
              ? ` nbq-mod-drop-${drag.placement}`
              : '';
          return (
            <li
              key={row.id}
              className={`nbq-JobRow${dropClass}`}
              data-job-id={row.id}
              data-state={row.state}
              data-label={row.label}
              data-queue={row.queue}
              draggable={draggable}
              onDragStart={event => {
                event.dataTransfer.setData(DRAG_TYPE, row.id);
                event.dataTransfer.effectAllowed = 'move';
                setDrag({ id: row.id, over: null, placement: 'before' });
              }}
              onDragEnd={() => setDrag(null)}
              onDragOver={event => {
                if (!drag) {
                  return;
                }
                const placement = dropPlacement(
                  event.clientY,
                  event.currentTarget.getBoundingClientRect()
                );
                if (model.reorderIntent(drag.id, row.id, placement)) {
                  event.preventDefault();
                  event.dataTransfer.dropEffect = 'move';
                }
                if (drag.over !== row.id || drag.placement !== placement) {
                  setDrag({ ...drag, over: row.id, placement });
                }
              }}
              onDrop={event => onDrop(row, event)}
            >
              <div className="nbq-JobRow-line">
                <input
                  type="checkbox"
                  className="nbq-JobRow-select"
                  title={trans.__('Tick to compare metrics')}
                  checked={model.selected.has(row.id)}
                  onChange={e =>
                    model.setSelected(row.id, e.currentTarget.checked)
                  }
                />
                <span className="nbq-JobRow-name" title={row.id}>
                  {row.name}
                </span>
                <span
                  className={`nbq-JobRow-state nbq-mod-${row.label}`}
                  title={row.reason ?? ''}
                >
                  {states[row.label]}
                </span>
              </div>
              <div className="nbq-JobRow-details">
                <span className="nbq-JobRow-queue" title={trans.__('queue')}>
                  {row.queue}
                </span>
                <span
                  className="nbq-JobRow-profile"
                  title={trans.__('profile')}
                >
                  {row.profile}
                </span>
                <span
                  className="nbq-JobRow-priority"
                  title={trans.__('priority')}
                >
                  {row.priority}
                </span>
                {row.position !== null && (
                  <span
                    className="nbq-JobRow-position"
                    title={trans.__('position in the queue')}
                  >
                    #{row.position}
                  </span>
                )}
                {row.eta && (
                  <span
                    className="nbq-JobRow-eta"
                    title={
                      row.etaTitle ||
                      trans.__('estimated wait before it starts')
                    }
                  >
                    {trans.__('ETA %1', row.eta)}
                  </span>
                )}
                {row.elapsed && (
                  <span
                    className="nbq-JobRow-elapsed"
                    title={
                      row.ticking
                        ? trans.__('running for')
                        : trans.__('ran for')
                    }
                  >
                    {row.elapsed}
                  </span>
                )}
                <span className="nbq-JobRow-owner" title={trans.__('owner')}>
                  {row.owner}
                </span>
              </div>
              <div className="nbq-JobRow-actions">
                {row.actions.map(action => (
                  <button
                    key={action}
                    type="button"
                    className="nbq-JobRow-action"
                    data-action={action}
                    title={titleOf(action, job, trans)}
                    onClick={event => run(action, job, event)}
                  >
                    {action === 'cancel' && row.state !== 'queued'
                      ? trans.__('Abort')
                      : labels[action]}
                  </button>
                ))}
              </div>
            </li>
          );
        })}
      </ul>
      {model.hasMore && (
        <button
          className="jp-mod-styled jp-mod-reject nbq-JobsPanel-more"
          title={trans.__('List the next page of older jobs')}
          onClick={() => void model.loadMore()}
        >
          {trans.__('Show older jobs')}
        </button>
      )}
    </div>
  );
}

function titleOf(
  action: JobAction,
  job: IJob,
  trans: TranslationBundle
): string {
  switch (action) {
    case 'cancel':
      return job.state === 'queued'
        ? trans.__('Remove this job from the queue')
        : trans.__('Stop this job: interrupt the kernel, then stop it');
    case 'hold':
      return trans.__('Keep this job queued without starting it');
    case 'release':
      return trans.__('Let this job start again when its turn comes');
    case 'front':
      return trans.__('Move before your other queued jobs in this queue');
    case 'back':
      return trans.__('Move after your other queued jobs in this queue');
    case 'priority':
      return trans.__('Change the priority');
    case 'move':
      return trans.__('Move to another queue');
    case 'rerun':
      return trans.__('Queue a new job with the same notebook and parameters');
    case 'live':
      return job.notebook_path
        ? trans.__("Open %1 with this job's live outputs", job.notebook_path)
        : trans.__("Open the notebook with this job's live outputs");
    case 'result':
      return trans.__(
        'Save the executed notebook next to the original and open it'
      );
    case 'files':
      return trans.__(
        'Save the files the job wrote in a folder next to the notebook'
      );
    case 'error':
      return job.reason ?? '';
    case 'log':
      return trans.__("Show the runner's log");
    case 'metrics':
      return trans.__("Show this job's metrics");
  }
}
