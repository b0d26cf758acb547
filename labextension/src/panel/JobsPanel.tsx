/**
 * The "nbqueue jobs" sidebar: the user's jobs (admins: everyone's) with state,
 * queue, position, ETA, elapsed time, profile and owner, live; filters; the
 * actions of each job; drag and drop (or "to front" / "to back") to reorder
 * one's own queued jobs; ticks to compare metrics.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { humanBytes } from '@nbqueue/common';
import * as React from 'react';

import { queueIcon } from '../icons';
import { OpenTableButton } from '../table/OpenTableButton';
import type { IJob } from '../service/model';
import type { IPipeline } from '../service/scheduleModel';
import { nbqueueBundle, TranslationBundle } from '../translation';
import type { JobActions } from './actions';
import type { JobsModel } from './model';
import { PanelTabs } from './PanelTabs';
import { PipelineGroup } from './PipelineGroup';
import { groupRows, ListItem, PipelinesModel } from './pipelines';
import type { SchedulesModel } from './schedules';
import { SchedulesView } from './SchedulesView';
import { dropPlacement } from './reorder';
import { anyOf, FilterSelect, stateChoices } from './FilterSelect';
import { useModel, useNow } from './hooks';
import { actionLabels, titleOf } from './actionTexts';
import {
  IJobRow,
  JobAction,
  StateFilter,
  stateFilterLabels,
  stateLabels,
  statusText
} from './rows';

const DRAG_TYPE = 'application/x-nbqueue-job';

/** Pipelines and schedules: given, the panel groups jobs and has a Schedules tab. */
export interface IPanelExtras {
  pipelines: PipelinesModel;
  schedules: SchedulesModel;
  /** Opens the Jobs table in the main area. */
  openTable?: () => void;
  /** Opens the live view of the running step's job. */
  openPipelineLive: (pipeline: IPipeline) => void;
  confirm: (message: string) => Promise<boolean>;
}

export class JobsPanel extends ReactWidget {
  constructor(
    model: JobsModel,
    actions: JobActions,
    trans: TranslationBundle = nbqueueBundle(),
    extras: IPanelExtras | null = null
  ) {
    super();
    this._model = model;
    this._actions = actions;
    this._trans = trans;
    this._extras = extras;
    this.id = 'nbqueue-jobs';
    this.addClass('nbq-JobsPanel');
    this.title.icon = queueIcon;
    this.title.caption = trans.__('nbqueue jobs');
  }

  render(): JSX.Element {
    const extras = this._extras;
    const jobs = (
      <JobsView
        model={this._model}
        actions={this._actions}
        extras={extras}
        trans={this._trans}
      />
    );
    if (!extras) {
      return jobs;
    }
    const model = this._model;
    return (
      <PanelTabs
        jobs={jobs}
        schedules={
          <SchedulesView
            model={extras.schedules}
            openJob={id => {
              const job = model.get(id);
              if (job) {
                void this._actions.openLive(job);
              }
            }}
            confirm={extras.confirm}
            trans={this._trans}
          />
        }
        onOpen={tab => {
          if (tab === 'schedules') {
            void extras.schedules.refresh(model.showAll && model.isAdmin);
          }
        }}
        trans={this._trans}
      />
    );
  }

  private _model: JobsModel;
  private _actions: JobActions;
  private _trans: TranslationBundle;
  private _extras: IPanelExtras | null;
}

function JobsView(props: {
  model: JobsModel;
  actions: JobActions;
  extras: IPanelExtras | null;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, actions, extras, trans } = props;
  const labels = React.useMemo(() => actionLabels(trans), [trans]);
  const states = React.useMemo(() => stateLabels(trans), [trans]);
  const filters = React.useMemo(() => stateFilterLabels(trans), [trans]);
  useModel(model);
  useModel(extras?.pipelines ?? null);
  const anyRunning = model.jobs.some(
    job => job.state === 'running' || job.state === 'starting'
  );
  const now = useNow(anyRunning);
  const rows = model.rows(now);
  const items: ListItem[] = extras
    ? groupRows(
        rows,
        id => model.get(id),
        id => extras.pipelines.get(id)
      )
    : rows.map(row => ({ kind: 'job', row }));
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

  const renderRow = (row: IJobRow): JSX.Element => {
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
            onChange={e => model.setSelected(row.id, e.currentTarget.checked)}
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
          <span className="nbq-JobRow-profile" title={trans.__('profile')}>
            {row.profile}
          </span>
          <span className="nbq-JobRow-priority" title={trans.__('priority')}>
            {row.priority}
          </span>
          {row.attempt && (
            <span className="nbq-JobRow-attempt" title={row.reason ?? ''}>
              {row.attempt}
            </span>
          )}
          {row.position !== null && (
            <span
              className="nbq-JobRow-position"
              title={trans.__('position in the queue')}
            >
              #{row.position}
            </span>
          )}
          {row.estimate && (
            <span className="nbq-JobRow-estimate" title={row.etaTitle}>
              {row.estimate}
            </span>
          )}
          {row.progress && (
            <span
              className="nbq-JobRow-progress"
              title={trans.__('the code cell it runs')}
            >
              {row.progress}
            </span>
          )}
          {row.eta && !row.estimate && (
            <span
              className="nbq-JobRow-eta"
              title={
                row.etaTitle || trans.__('estimated wait before it starts')
              }
            >
              {trans.__('ETA %1', row.eta)}
            </span>
          )}
          {row.elapsed && (
            <span
              className="nbq-JobRow-elapsed"
              title={
                row.ticking ? trans.__('running for') : trans.__('ran for')
              }
            >
              {row.elapsed}
            </span>
          )}
          <span className="nbq-JobRow-owner" title={trans.__('owner')}>
            {row.owner}
          </span>
        </div>
        {row.waiting && (
          <div className="nbq-JobRow-waiting" title={row.waitingDetail}>
            {row.waiting}
          </div>
        )}
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
          onClick={() => {
            void model.refresh();
            void extras?.pipelines.refresh(model.showAll && model.isAdmin);
          }}
        >
          {trans.__('Refresh')}
        </button>
        <OpenTableButton open={extras?.openTable} trans={trans} />
      </div>
      <div className="nbq-JobsPanel-filters">
        <FilterSelect
          label={trans.__('State')}
          name="state-filter"
          value={model.stateFilter}
          choices={stateChoices(filters)}
          onChange={state => (model.stateFilter = state as StateFilter)}
        />
        <FilterSelect
          label={trans.__('Queue')}
          name="queue-filter"
          value={model.queueFilter}
          choices={anyOf(
            model.queues.map(queue => queue.name),
            trans
          )}
          onChange={queue => (model.queueFilter = queue)}
        />
        {model.isAdmin && (
          <label title={trans.__("Admins: show every user's jobs")}>
            <input
              type="checkbox"
              name="all-users"
              checked={model.showAll}
              onChange={e => {
                model.showAll = e.currentTarget.checked;
                void extras?.pipelines.refresh(model.showAll);
              }}
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
      {extras?.pipelines.error && (
        <div className="nbq-JobsPanel-error" role="alert">
          {extras.pipelines.error}
        </div>
      )}
      {model.loaded && rows.length === 0 && (
        <div className="nbq-JobsPanel-empty">
          {trans.__('No jobs here. Press “Submit to GPU queue” in a notebook.')}
        </div>
      )}
      <ul className="nbq-JobsPanel-list">
        {items.map(item =>
          item.kind === 'job' ? (
            renderRow(item.row)
          ) : (
            <PipelineGroup
              key={item.pipeline.id}
              pipeline={item.pipeline}
              steps={item.steps}
              renderRow={renderRow}
              onLive={pipeline => extras?.openPipelineLive(pipeline)}
              onAction={(pipeline, action) =>
                void extras?.pipelines.act(pipeline.id, action)
              }
              trans={trans}
            />
          )
        )}
      </ul>
      <OpenTableButton
        open={extras?.openTable}
        older={model.olderFinished()}
        trans={trans}
      />
      {model.usage && (
        <div
          className="nbq-JobsPanel-usage"
          title={trans.__(
            'Notebooks, results, events, metrics and files of your jobs kept by nbqueue'
          )}
        >
          {trans.__('Your jobs use %1', humanBytes(model.usage.user.bytes))}
        </div>
      )}
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
