/**
 * The chart's controls, in React: the toolbar (x axis, smoothing, CSV) and
 * each group's header (title, PNG).
 */
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import type { TranslationBundle } from '../translation';
import type { XAxis } from './traces';

const BUTTON_CLASS = 'jp-mod-styled jp-mod-reject nbq-MetricsChart-button';

export interface IChartToolbarProps {
  xAxis: XAxis;
  smoothing: number;
  onXAxis: (value: XAxis) => void;
  onSmoothing: (value: number) => void;
  onCsv: () => void;
  trans: TranslationBundle;
}

export function ChartToolbar(props: IChartToolbarProps): React.ReactElement {
  const { trans } = props;
  const onSmoothing = (event: React.FormEvent<HTMLInputElement>) =>
    props.onSmoothing(Number(event.currentTarget.value));
  return (
    <>
      <label>
        {trans.__('x axis')}{' '}
        <select
          name="x-axis"
          value={props.xAxis}
          onChange={event => props.onXAxis(event.currentTarget.value as XAxis)}
        >
          <option value="step">{trans.__('step')}</option>
          <option value="time">{trans.__('wall time')}</option>
        </select>
      </label>
      <label>
        {trans.__('smoothing')}{' '}
        <input
          type="range"
          name="smoothing"
          min="0"
          max="0.99"
          step="0.01"
          value={props.smoothing}
          // `input` as well: a script that sets the value and fires `input`
          // (as browser automation does) is not seen by React's onChange.
          onInput={onSmoothing}
          onChange={onSmoothing}
        />
        <span className="nbq-MetricsChart-smoothingValue">
          {props.smoothing.toFixed(2)}
        </span>
      </label>
      <button
        type="button"
        className={`${BUTTON_CLASS} nbq-MetricsChart-csv`}
        title={trans.__('Download all points as CSV')}
        onClick={props.onCsv}
      >
        {trans.__('CSV')}
      </button>
    </>
  );
}

export function GroupHeader(props: {
  group: string;
  onPng: () => void;
  trans: TranslationBundle;
}): React.ReactElement {
  const { group, trans } = props;
  return (
    <>
      <span className="nbq-MetricsChart-groupTitle">{group}</span>
      <button
        type="button"
        className={`${BUTTON_CLASS} nbq-MetricsChart-png`}
        title={trans.__('Download the %1 chart as PNG', group)}
        onClick={props.onPng}
      >
        {trans.__('PNG')}
      </button>
    </>
  );
}

/** A widget that renders what `render` returns, again on each `update()`. */
export class RenderWidget extends ReactWidget {
  constructor(
    className: string,
    private readonly _render: () => React.ReactElement
  ) {
    super();
    this.addClass(className);
  }

  protected render(): React.ReactElement {
    return this._render();
  }
}
