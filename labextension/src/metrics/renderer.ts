/**
 * The notebook side: a rendermime renderer for
 * `application/vnd.nbqueue.metrics+json` outputs. JupyterLab calls
 * `renderModel` again with the whole data on each `update_display_data`, so
 * a live chart only extends its series and redraws at most ten times a second.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { PanelLayout, Widget } from '@lumino/widgets';

import { nbqueueBundle, TranslationBundle } from '../translation';
import { MetricsChart } from './chart';
import { METRICS_MIME_TYPE, parseMetricsData } from './types';

export class MetricsRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(
    options: IRenderMime.IRendererOptions,
    chartOptions: MetricsChart.IOptions = {}
  ) {
    super();
    const layout = (this.layout = new PanelLayout());
    this._mimeType = options.mimeType;
    this.addClass('nbq-MetricsRenderer');
    this._error = document.createElement('div');
    this._error.className = 'nbq-MetricsRenderer-error';
    this._error.hidden = true;
    this.node.appendChild(this._error);
    this._trans = chartOptions.trans ?? nbqueueBundle();
    this._chart = new MetricsChart({
      filename: 'metrics',
      ...chartOptions,
      trans: this._trans
    });
    layout.addWidget(this._chart);
  }

  get chart(): MetricsChart {
    return this._chart;
  }

  /** Resolves once the data is drawn (with later updates, if coalesced). */
  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const series = parseMetricsData(model.data[this._mimeType]);
    if (series === null) {
      this._error.textContent = this._trans.__(
        'nbqueue: this metrics output is not in the expected format (%1).',
        '{"version": 1, "series": [{"name", "steps", "values", "times"}]}'
      );
      this._error.hidden = false;
      return Promise.resolve();
    }
    this._error.hidden = true;
    return this._chart.updateSeries(series);
  }

  private _mimeType: string;
  private _trans: TranslationBundle;
  private _chart: MetricsChart;
  private _error: HTMLElement;
}

/**
 * Safe: the data is only numbers and names drawn as text, so the chart also
 * shows in notebooks that are not trusted, such as a job's result notebook.
 */
export function createMetricsRendererFactory(
  trans: TranslationBundle = nbqueueBundle()
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [METRICS_MIME_TYPE],
    defaultRank: 50,
    createRenderer: options => new MetricsRenderer(options, { trans })
  };
}

export const metricsRendererFactory = createMetricsRendererFactory();
