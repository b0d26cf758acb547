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
import type { JobActions } from './actions';
import {
  dropPlacement,
  IJobRow,
  JobAction,
  JobsModel,
  STATE_FILTERS,
  StateFilter,
  statusText
} from './model';

const DRAG_TYPE = 'application/x-nbqueue-job';

const LABELS: Record<JobAction, string> = {
  cancel: 'Cancel',
  hold: 'Hold',
  release: 'Release',
  front: 'To front',
  back: 'To back',
  priority: 'Priority ▾',
  move: 'Move ▾',
  rerun: 'Re-run ▾',
  live: 'Live view',
  result: 'Result',
  files: 'Save files',
  error: 'Error',
  log: 'Log',
  metrics: 'Metrics'
};

export class JobsPanel extends ReactWidget {
  constructor(model: JobsModel, actions: JobActions) {
    super();
    this._model = model;
    this._actions = actions;
    this.id = 'nbqueue-jobs';
    this.addClass('nbq-JobsPanel');
    this.title.icon = queueIcon;
    this.title.caption = 'nbqueue jobs';
  }

  render(): JSX.Element {
    return <JobsView model={this._model} actions={this._actions} />;
  }

  private _model: JobsModel;
  private _actions: JobActions;
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
}): JSX.Element {
  const { model, actions } = props;
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
        <h2 className="nbq-JobsPanel-title">nbqueue jobs</h2>
        <span className="nbq-JobsPanel-summary">
          {model.loaded ? statusText(model.counts()) : ''}
        </span>
        <button
          type="button"
          className="jp-mod-styled jp-mod-reject nbq-JobsPanel-refresh"
          title="Read the jobs again from the sidecar"
          onClick={() => void model.refresh()}
        >
          Refresh
        </button>
      </div>
      <div className="nbq-JobsPanel-filters">
        <label>
          State{' '}
          <select
            name="state-filter"
            value={model.stateFilter}
            onChange={e =>
              (model.stateFilter = e.currentTarget.value as StateFilter)
            }
          >
            {STATE_FILTERS.map(state => (
              <option key={state} value={state}>
                {state}
              </option>
            ))}
          </select>
        </label>
        <label>
          Queue{' '}
          <select
            name="queue-filter"
            value={model.queueFilter}
            onChange={e => (model.queueFilter = e.currentTarget.value)}
          >
            <option value="">all</option>
            {model.queues.map(queue => (
              <option key={queue.name} value={queue.name}>
                {queue.name}
              </option>
            ))}
          </select>
        </label>
        {model.isAdmin && (
          <label title="Admins: show every user's jobs">
            <input
              type="checkbox"
              name="all-users"
              checked={model.showAll}
              onChange={e => (model.showAll = e.currentTarget.checked)}
            />{' '}
            all users
          </label>
        )}
        <button
          type="button"
          className="jp-mod-styled jp-mod-accept nbq-JobsPanel-compare"
          disabled={selected.length === 0}
          title="Overlay the metrics of the ticked jobs"
          onClick={() => actions.showMetrics(selected)}
        >
          Compare metrics ({selected.length})
        </button>
      </div>
      {model.error && (
        <div className="nbq-JobsPanel-error" role="alert">
          {model.error}
        </div>
      )}
      {model.loaded && rows.length === 0 && (
        <div className="nbq-JobsPanel-empty">
          No jobs here. Press “Submit to GPU queue” in a notebook.
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
                  title="Tick to compare metrics"
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
                  {row.label}
                </span>
              </div>
              <div className="nbq-JobRow-details">
                <span className="nbq-JobRow-queue" title="queue">
                  {row.queue}
                </span>
                <span className="nbq-JobRow-profile" title="profile">
                  {row.profile}
                </span>
                <span className="nbq-JobRow-priority" title="priority">
                  {row.priority}
                </span>
                {row.position !== null && (
                  <span
                    className="nbq-JobRow-position"
                    title="position in the queue"
                  >
                    #{row.position}
                  </span>
                )}
                {row.eta && (
                  <span
                    className="nbq-JobRow-eta"
                    title={row.etaTitle || 'estimated wait before it starts'}
                  >
                    ETA {row.eta}
                  </span>
                )}
                {row.elapsed && (
                  <span
                    className="nbq-JobRow-elapsed"
                    title={row.ticking ? 'running for' : 'ran for'}
                  >
                    {row.elapsed}
                  </span>
                )}
                <span className="nbq-JobRow-owner" title="owner">
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
                    title={titleOf(action, job)}
                    onClick={event => run(action, job, event)}
                  >
                    {action === 'cancel' && row.state !== 'queued'
                      ? 'Abort'
                      : LABELS[action]}
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
          title="List the next page of older jobs"
          onClick={() => void model.loadMore()}
        >
          Show older jobs
        </button>
      )}
    </div>
  );
}

function titleOf(action: JobAction, job: IJob): string {
  switch (action) {
    case 'cancel':
      return job.state === 'queued'
        ? 'Remove this job from the queue'
        : 'Stop this job: interrupt the kernel, then stop it';
    case 'hold':
      return 'Keep this job queued without starting it';
    case 'release':
      return 'Let this job start again when its turn comes';
    case 'front':
      return 'Move before your other queued jobs in this queue';
    case 'back':
      return 'Move after your other queued jobs in this queue';
    case 'priority':
      return 'Change the priority';
    case 'move':
      return 'Move to another queue';
    case 'rerun':
      return 'Queue a new job with the same notebook and parameters';
    case 'live':
      return `Open ${job.notebook_path ?? 'the notebook'} with this job's live outputs`;
    case 'result':
      return 'Save the executed notebook next to the original and open it';
    case 'files':
      return 'Save the files the job wrote in a folder next to the notebook';
    case 'error':
      return job.reason ?? '';
    case 'log':
      return "Show the runner's log";
    case 'metrics':
      return "Show this job's metrics";
  }
}
