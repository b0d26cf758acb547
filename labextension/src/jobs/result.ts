/**
 * Saving a job's executed notebook next to the original.
 */
import { PathExt } from '@jupyterlab/coreutils';

import type { IJob } from '../service/model';

/**
 * `<dir>/<basename>-<job id>.ipynb` for `<dir>/<basename>.ipynb`; a job
 * submitted without a notebook path lands at the server root.
 */
export function resultPath(job: Pick<IJob, 'id' | 'notebook_path'>): string {
  if (!job.notebook_path) {
    return `nbqueue-${job.id}.ipynb`;
  }
  const dir = PathExt.dirname(job.notebook_path);
  const base = PathExt.basename(
    job.notebook_path,
    PathExt.extname(job.notebook_path)
  );
  return PathExt.join(dir, `${base}-${job.id}.ipynb`);
}
