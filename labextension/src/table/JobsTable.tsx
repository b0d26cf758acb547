/**
 * The Jobs table (main area), in the manner of JupyterLab's file browser:
 * every job the panel knows, in sortable columns (click a header; again to
 * reverse), filters by state, queue, owner and text, and a selection (click,
 * Shift-click, Ctrl/Cmd-click, Ctrl/Cmd-A) to hold, cancel or compare jobs.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { caretDownIcon, caretUpIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { IJob } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';
import type { JobActions } from '../panel/actions';
import { anyOf, FilterSelect, stateChoices } from '../panel/FilterSelect';
import { useModel, useNow } from '../panel/hooks';
import { StateFilter, stateFilterLabels, stateLabels } from '../panel/rows';
import { cellText, Column, COLUMNS, columnLabels, ITableRow } from './columns';
import type { JobsTableModel } from './model';

/** What the table does to jobs: the Jobs panel's actions. */
export type TableActions = Pick<
  JobActions,
  'cancel' | 'hold' | 'release' | 'showMetrics' | 'openLive'
>;

export class JobsTable extends ReactWidget {
  constructor(
    model: JobsTableModel,
    actions: TableActions,
    refresh: () => void,
    trans: TranslationBundle = nbqueueBundle()
  ) {
    super();
    this._model = model;
    this._actions = actions;
    this._refresh = refresh;
    this._trans = trans;
    this.addClass('nbq-JobsTable');
  }

  render(): JSX.Element {
    return (
      <TableView
        model={this._model}
        actions={this._actions}
        refresh={this._refresh}
        trans={this._trans}
      />
    );
  }

  private _model: JobsTableModel;
  private _actions: TableActions;
  private _refresh: () => void;
  private _trans: TranslationBundle;
}

/** Queued jobs can be held (or released); active ones cancelled. */
const holdable = (job: IJob) => job.state === 'queued' && !job.held;
const cancellable = (job: IJob) =>
  ['queued', 'starting', 'running'].includes(job.state) &&
  !job.cancel_requested;

function TableView(props: {
  model: JobsTableModel;
  actions: TableActions;
  refresh: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, actions, trans } = props;
  useModel(model);
  const labels = React.useMemo(() => columnLabels(trans), [trans]);
  const states = React.useMemo(() => stateLabels(trans), [trans]);
  const filterLabels = React.useMemo(() => stateFilterLabels(trans), [trans]);

  const probe = model.rows(Date.now());
  const now = useNow(probe.some(row => row.ticking));
  const rows = model.rows(now);
  const selected = model.selected();
  const { owners, queues } = model.choices();
  const { sort, filters } = model.state;
  const toHold = selected.filter(holdable);
  const toCancel = selected.filter(cancellable);

  const header = (column: Column) => {
    const sorted = sort.column === column;
    const Caret = sort.direction === 'ascending' ? caretUpIcon : caretDownIcon;
    return (
      <div
        key={column}
        role="columnheader"
        aria-sort={sorted ? sort.direction : 'none'}
        className={`jp-DirListing-headerItem nbq-JobsTable-header nbq-JobsTable-col-${column}${
          sorted ? ' jp-mod-selected' : ''
        }`}
        data-column={column}
        onClick={() => model.sortBy(column)}
      >
        <span className="jp-DirListing-headerItemText">{labels[column]}</span>
        {sorted && (
          <span className="jp-DirListing-headerItemIcon nbq-JobsTable-caret">
            <Caret.react tag="span" />
          </span>
        )}
      </div>
    );
  };

  const cell = (row: ITableRow, column: Column) => {
    const text = column === 'state' ? states[row.label] : cellText(row, column);
    const title =
      column === 'waiting'
        ? row.waitingDetail
        : column === 'eta'
          ? row.etaTitle
          : column === 'name'
            ? row.id
            : column === 'state'
              ? (row.reason ?? '')
              : '';
    return (
      <div
        key={column}
        role="gridcell"
        className={`nbq-JobsTable-cell nbq-JobsTable-col-${column}`}
        title={title}
      >
        {column === 'state' ? (
          <span className={`nbq-JobRow-state nbq-mod-${row.label}`}>
            {text}
          </span>
        ) : (
          text
        )}
      </div>
    );
  };

  return (
    <div className="nbq-JobsTable-content">
      <div className="nbq-JobsTable-toolbar">
        <FilterSelect
          label={trans.__('State')}
          name="state-filter"
          value={filters.state}
          choices={stateChoices(filterLabels)}
          onChange={state => model.setFilters({ state: state as StateFilter })}
        />
        <FilterSelect
          label={trans.__('Queue')}
          name="queue-filter"
          value={filters.queue}
          choices={anyOf(withCurrent(queues, filters.queue), trans)}
          onChange={queue => model.setFilters({ queue })}
        />
        <FilterSelect
          label={trans.__('Owner')}
          name="owner-filter"
          value={filters.owner}
          choices={anyOf(withCurrent(owners, filters.owner), trans)}
          onChange={owner => model.setFilters({ owner })}
        />
        <input
          type="search"
          name="text-filter"
          className="jp-mod-styled nbq-JobsTable-search"
          placeholder={trans.__('Filter by name, id or reason')}
          value={filters.text}
          onChange={e => model.setFilters({ text: e.currentTarget.value })}
        />
        <span className="nbq-JobsTable-spacer" />
        <button
          type="button"
          className="jp-mod-styled jp-mod-reject nbq-JobsTable-hold"
          disabled={toHold.length === 0}
          title={trans.__('Hold the selected queued jobs')}
          onClick={() => void Promise.all(toHold.map(job => actions.hold(job)))}
        >
          {trans.__('Hold (%1)', toHold.length)}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-mod-reject nbq-JobsTable-cancel"
          disabled={toCancel.length === 0}
          title={trans.__(
            'Cancel the selected queued jobs, abort the running ones'
          )}
          onClick={() =>
            void Promise.all(toCancel.map(job => actions.cancel(job)))
          }
        >
          {trans.__('Cancel (%1)', toCancel.length)}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-mod-accept nbq-JobsTable-compare"
          disabled={selected.length === 0}
          title={trans.__('Overlay the metrics of the selected jobs')}
          onClick={() => actions.showMetrics(selected)}
        >
          {trans.__('Compare metrics (%1)', selected.length)}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-mod-reject nbq-JobsTable-refresh"
          title={trans.__('Read the jobs again from the sidecar')}
          onClick={props.refresh}
        >
          {trans.__('Refresh')}
        </button>
      </div>
      <div
        className="jp-DirListing nbq-JobsTable-listing"
        role="grid"
        tabIndex={0}
        onKeyDown={e => {
          if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'a') {
            e.preventDefault();
            model.selectAll();
          } else if (e.key === 'Escape') {
            model.clearSelection();
          }
        }}
      >
        <div
          className="jp-DirListing-header nbq-JobsTable-headerRow"
          role="row"
        >
          <div className="nbq-JobsTable-cell nbq-JobsTable-col-select">
            <input
              type="checkbox"
              name="select-all"
              title={trans.__('Select every job shown')}
              checked={rows.length > 0 && selected.length === rows.length}
              onChange={e =>
                e.currentTarget.checked
                  ? model.selectAll()
                  : model.clearSelection()
              }
            />
          </div>
          {COLUMNS.map(header)}
        </div>
        <ul className="jp-DirListing-content nbq-JobsTable-body">
          {rows.map(row => {
            const isSelected = model.isSelected(row.id);
            return (
              <li
                key={row.id}
                role="row"
                aria-selected={isSelected}
                className={`jp-DirListing-item nbq-JobsTable-row${
                  isSelected ? ' jp-mod-selected' : ''
                }`}
                data-job-id={row.id}
                data-state={row.label}
                onMouseDown={e => {
                  // Shift-click selects a range, not the page's text.
                  if (e.shiftKey) {
                    e.preventDefault();
                  }
                }}
                onClick={e =>
                  model.click(row.id, {
                    shift: e.shiftKey,
                    toggle: e.ctrlKey || e.metaKey
                  })
                }
                onDoubleClick={() => void actions.openLive(row.job)}
              >
                <div className="nbq-JobsTable-cell nbq-JobsTable-col-select">
                  <input
                    type="checkbox"
                    className="nbq-JobsTable-select"
                    checked={isSelected}
                    onClick={e => e.stopPropagation()}
                    onChange={() => model.click(row.id, { toggle: true })}
                  />
                </div>
                {COLUMNS.map(column => cell(row, column))}
              </li>
            );
          })}
        </ul>
        {rows.length === 0 && (
          <div className="nbq-JobsTable-empty">
            {trans.__('No job matches these filters.')}
          </div>
        )}
      </div>
    </div>
  );
}

/** A saved filter value stays choosable even before its jobs are listed. */
function withCurrent(values: string[], current: string): string[] {
  return current && !values.includes(current) ? [...values, current] : values;
}
