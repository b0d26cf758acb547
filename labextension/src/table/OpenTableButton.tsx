/**
 * The Jobs panel's ways into the Jobs table: a "Table" button in its header,
 * and, under its list, how many older finished jobs only the table lists.
 */
import * as React from 'react';

import type { TranslationBundle } from '../translation';

export function OpenTableButton(props: {
  open: (() => void) | undefined;
  /** Given: the line under the list, shown if any job is left out. */
  older?: number;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { open, older, trans } = props;
  if (!open || older === 0) {
    return null;
  }
  return older === undefined ? (
    <button
      type="button"
      className="jp-mod-styled jp-mod-reject nbq-JobsPanel-table"
      title={trans.__('Open Jobs Table: every job, sortable, in the main area')}
      onClick={open}
    >
      {trans.__('Table')}
    </button>
  ) : (
    <button
      type="button"
      className="jp-mod-styled jp-mod-reject nbq-JobsPanel-older"
      title={trans.__('The Jobs table lists every job')}
      onClick={open}
    >
      {trans._n(
        '%1 older finished job: Open Jobs Table',
        '%1 older finished jobs: Open Jobs Table',
        older
      )}
    </button>
  );
}
