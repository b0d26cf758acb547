import { ApiError } from '../errors';
import type { Notebook } from '../jobs/types';

const bytes = (v: unknown): number =>
  v === undefined ? 0 : Buffer.byteLength(JSON.stringify(v));

export const megabytes = (n: number): string =>
  `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;

interface Part {
  what: string;
  bytes: number;
  largest: number;
  largestCell: number;
  fix: string;
}

/**
 * Throws 413 `notebook_too_large` when the notebook (already without outputs) is over `max`
 * bytes, saying which part is large (attachments, sources, metadata) and where.
 */
export function checkNotebookSize(nb: Notebook, max: number): void {
  const size = bytes(nb);
  if (size <= max) return;
  const parts: Part[] = [
    {
      what: 'cell attachments (pasted images)',
      bytes: 0,
      largest: 0,
      largestCell: -1,
      fix: 'Remove large pasted images from markdown cells (link image files instead)'
    },
    {
      what: 'cell sources',
      bytes: 0,
      largest: 0,
      largestCell: -1,
      fix: 'Move data embedded in the code into files next to the notebook (they go with the job)'
    },
    {
      what: 'cell metadata',
      bytes: 0,
      largest: 0,
      largestCell: -1,
      fix: 'Remove large cell metadata'
    }
  ];
  nb.cells.forEach((cell, i) => {
    [cell.attachments, cell.source, cell.metadata].forEach((v, k) => {
      const n = bytes(v);
      const part = parts[k];
      part.bytes += n;
      if (n > part.largest) {
        part.largest = n;
        part.largestCell = i;
      }
    });
  });
  const notebookMeta = bytes(nb.metadata);
  const top = [...parts].sort((a, b) => b.bytes - a.bytes)[0];
  const limit = `${megabytes(max)} limit (limits.max_notebook_bytes)`;
  const message =
    notebookMeta > top.bytes
      ? `The notebook is ${megabytes(size)} without its outputs, over the ${limit}; most of it is its metadata (${megabytes(notebookMeta)}, e.g. saved widget state). Remove large notebook metadata (Settings → Save Widget State Automatically off, then save) and submit again.`
      : `The notebook is ${megabytes(size)} without its outputs, over the ${limit}; most of it is ${top.what} (${megabytes(top.bytes)}, the largest ${megabytes(top.largest)} in cells[${top.largestCell}]). ${top.fix}, and submit again.`;
  throw new ApiError(413, 'notebook_too_large', message);
}
