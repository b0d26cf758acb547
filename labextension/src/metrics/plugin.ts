/**
 * Registers the metrics chart renderer with JupyterLab's rendermime registry,
 * so notebooks opened from then on draw `nbqueue.log_metric` outputs.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator } from '@jupyterlab/translation';

import { nbqueueBundle } from '../translation';
import { createMetricsRendererFactory } from './renderer';

export const metricsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbqueue-labextension:metrics',
  description:
    'Draws nbqueue metric outputs (application/vnd.nbqueue.metrics+json) as live plotly charts.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [ITranslator],
  activate: (
    _app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    translator: ITranslator | null
  ) => {
    const factory = createMetricsRendererFactory(nbqueueBundle(translator));
    rendermime.addFactory(factory, factory.defaultRank);
  }
};
