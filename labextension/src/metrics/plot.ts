/**
 * One plotly chart's lifecycle: the widget owns the div plotly draws in,
 * redraws it (`react`), fits it to a new width, saves it as PNG, and frees
 * plotly's state when it goes away.
 */
import { Widget } from '@lumino/widgets';

import type { IPlotly } from './plotly';

export class PlotlyPlot extends Widget {
  /** @param plotly loads plotly.js (once: the caller memoizes it). */
  constructor(private readonly _plotly: () => Promise<IPlotly>) {
    super();
    this.addClass('nbq-MetricsChart-plot');
  }

  /** Whether plotly has drawn in the div (and holds state to purge). */
  get drawn(): boolean {
    return this._drawn;
  }

  /** Draw, or redraw what changed, as `Plotly.react` does. */
  async react(data: object[], layout: object, config: object): Promise<void> {
    const plotly = await this._plotly();
    if (this.isDisposed) {
      return;
    }
    await plotly.react(this.node, data, layout, config);
    this._drawn = !this.isDisposed;
  }

  /** Fit the drawn chart to its div's size. */
  async resize(): Promise<void> {
    if (!this._drawn) {
      return;
    }
    const plotly = await this._plotly();
    if (this._drawn && !this.isDisposed) {
      await plotly.Plots.resize(this.node);
    }
  }

  /** Save the drawn chart as `<filename>.png`. */
  async downloadPng(filename: string): Promise<void> {
    if (!this._drawn) {
      return;
    }
    const plotly = await this._plotly();
    await plotly.downloadImage(this.node, { format: 'png', filename });
  }

  /** Free plotly's state of the div; it can be drawn again afterwards. */
  async purge(): Promise<void> {
    if (!this._drawn) {
      return;
    }
    this._drawn = false;
    const plotly = await this._plotly();
    plotly.purge(this.node);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    void this.purge();
    super.dispose();
  }

  private _drawn = false;
}
