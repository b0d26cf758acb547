/**
 * plotly.js, loaded on first use: it is about 4 MB, and JupyterLab should not
 * wait for it at start when no notebook shows a chart.
 */

/** The part of plotly.js the charts use. */
export interface IPlotly {
  react(
    root: HTMLElement,
    data: object[],
    layout?: object,
    config?: object
  ): Promise<HTMLElement>;
  purge(root: HTMLElement): void;
  downloadImage(
    root: HTMLElement,
    options: { format: 'png' | 'svg'; filename: string }
  ): Promise<string>;
  Plots: { resize(root: HTMLElement): Promise<void> | void };
}

export async function loadPlotly(): Promise<IPlotly> {
  // A separate webpack chunk, fetched the first time a chart is drawn.
  const module = await import('plotly.js-dist-min');
  return (module.default ?? module) as IPlotly;
}
