import { LabIcon } from '@jupyterlab/ui-components';

import queueSvg from '../style/icons/queue.svg';

export const queueIcon = new LabIcon({
  name: 'nbqueue:queue',
  svgstr: queueSvg
});
