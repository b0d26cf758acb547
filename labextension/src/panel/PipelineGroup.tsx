/**
 * A pipeline in the Jobs panel: a header with its name, state and each
 * step's state, then its steps: the job rows of those that have a job, a
 * "waiting" or "skipped" line for those that have none yet.
 */
import * as React from 'react';

import type { IPipeline, PipelineStepState } from '../service/scheduleModel';
import type { TranslationBundle } from '../translation';
import { IStepItem, liveStepJobId } from './pipelines';
import type { IJobRow } from './rows';

/** The words of a step's (and a pipeline's) state. */
export function stepStateLabels(
  trans: TranslationBundle
): Record<PipelineStepState, string> {
  return {
    waiting: trans.__('waiting'),
    queued: trans.__('queued'),
    starting: trans.__('starting'),
    running: trans.__('running'),
    succeeded: trans.__('succeeded'),
    failed: trans.__('failed'),
    cancelled: trans.__('cancelled'),
    skipped: trans.__('skipped')
  };
}

export function PipelineGroup(props: {
  pipeline: IPipeline;
  steps: IStepItem[];
  renderRow: (row: IJobRow) => JSX.Element;
  /** Opens the live view of the running step's job. */
  onLive: (pipeline: IPipeline) => void;
  /** Cancels it (running) or re-runs it from its failed steps (failed, cancelled). */
  onAction: (pipeline: IPipeline, action: 'cancel' | 'rerun') => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { pipeline, steps, trans } = props;
  const states = stepStateLabels(trans);
  const live = liveStepJobId(pipeline);
  return (
    <li
      className="nbq-PipelineGroup"
      data-pipeline-id={pipeline.id}
      data-state={pipeline.state}
    >
      <div className="nbq-PipelineGroup-header">
        <span className="nbq-PipelineGroup-name" title={pipeline.id}>
          {pipeline.name}
        </span>
        <span
          className={`nbq-JobRow-state nbq-mod-${pipeline.state}`}
          title={pipeline.reason ?? ''}
        >
          {states[pipeline.state]}
        </span>
        {live && (
          <button
            type="button"
            className="nbq-JobRow-action"
            data-action="pipeline-live"
            title={trans.__("Follow the running step's outputs")}
            onClick={() => props.onLive(pipeline)}
          >
            {trans.__('Live view')}
          </button>
        )}
        {pipeline.state === 'running' ? (
          <button
            type="button"
            className="nbq-JobRow-action"
            data-action="pipeline-cancel"
            title={trans.__('Cancel its running steps and skip the rest')}
            onClick={() => props.onAction(pipeline, 'cancel')}
          >
            {trans.__('Cancel')}
          </button>
        ) : pipeline.state !== 'succeeded' ? (
          <button
            type="button"
            className="nbq-JobRow-action"
            data-action="pipeline-rerun"
            title={trans.__(
              'Run it again from the steps that did not succeed, keeping the outputs of those that did'
            )}
            onClick={() => props.onAction(pipeline, 'rerun')}
          >
            {trans.__('Re-run')}
          </button>
        ) : null}
      </div>
      <div className="nbq-PipelineGroup-steps">
        {pipeline.steps.map(step => (
          <span
            key={step.name}
            className={`nbq-PipelineStep nbq-mod-${step.state}`}
            data-step={step.name}
            data-state={step.state}
          >
            {trans.__('%1: %2', step.name, states[step.state])}
          </span>
        ))}
      </div>
      <ul className="nbq-PipelineGroup-jobs">
        {steps.map(({ step, row }) =>
          row ? (
            props.renderRow(row)
          ) : (
            <li
              key={step.name}
              className="nbq-PipelineStep-pending"
              data-step={step.name}
              data-state={step.state}
            >
              <span className="nbq-JobRow-name">{step.name}</span>
              <span className={`nbq-JobRow-state nbq-mod-${step.state}`}>
                {step.job_id
                  ? states[step.state]
                  : step.state === 'skipped'
                    ? states.skipped
                    : states.waiting}
              </span>
            </li>
          )
        )}
      </ul>
    </li>
  );
}
