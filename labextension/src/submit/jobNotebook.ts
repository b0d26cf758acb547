/**
 * The notebook a job starts from, made from the open notebook's content.
 */
import * as nbformat from '@jupyterlab/nbformat';

/**
 * The notebook as nbformat 4.5 with every cell's id and without outputs.
 *
 * Ids: the live writer matches the job's events to cells by them, and
 * JupyterLab drops them when it serializes a notebook older than 4.5 (its
 * cells have them all the same): `cellIds` are the model's, by cell index.
 *
 * Outputs: a run starts from a clean slate, as in papermill and nbclient, and
 * the plots of an afternoon's work can weigh more than the sidecar takes. So
 * code cells go with no outputs and no execution count; sources, attachments,
 * cell metadata and notebook metadata go as they are.
 */
export function jobNotebook(
  content: nbformat.INotebookContent,
  cellIds: ReadonlyArray<string | undefined>
): nbformat.INotebookContent {
  const cells = content.cells.map((cell, index): nbformat.ICell => {
    const id = cellIds[index] ?? cell.id;
    if (nbformat.isCode(cell)) {
      return { ...cell, id, outputs: [], execution_count: null };
    }
    return { ...cell, id };
  });
  const upgrade =
    content.nbformat === 4 &&
    (content.nbformat_minor === undefined || content.nbformat_minor < 5);
  return {
    ...content,
    ...(upgrade ? { nbformat_minor: 5 } : {}),
    cells
  };
}
