/**
 * The submit dialog's "Files" line: how many files of the notebook's folder
 * go with the job and their size, what was left out and why (expandable), and
 * what to add to .nbqueueignore when they are over the limit.
 */
import { humanBytes } from '@nbqueue/common';
import * as React from 'react';

import type { TranslationBundle } from '../translation';
import { FilesProbe, manifestSummary } from './files';

export function FilesSection(props: {
  probe: FilesProbe;
  trans: TranslationBundle;
}): React.ReactElement {
  const { trans } = props;
  const state = props.probe.state;
  let body: React.ReactNode;
  if (state.status === 'loading') {
    body = (
      <span className="nbq-SubmitDialog-loading">
        <span className="nbq-Spinner" aria-hidden="true" />
        {trans.__("Listing the notebook's folder…")}
      </span>
    );
  } else if (state.status === 'failed') {
    body = (
      <span className="nbq-Files-problem" role="alert">
        {trans.__(
          "The notebook's files cannot be listed: %1. The job runs without them.",
          state.error
        )}
      </span>
    );
  } else {
    const manifest = state.manifest;
    body = (
      <>
        <details className="nbq-Files-details">
          <summary className="nbq-Files-summary">
            {manifestSummary(manifest, trans)}
          </summary>
          {manifest.bundle && (
            <>
              <p className="nbq-Files-heading">
                {trans.__(
                  'Going from %1 (limit %2):',
                  manifest.root || trans.__('the root folder'),
                  humanBytes(manifest.max_bytes)
                )}
              </p>
              <ul className="nbq-Files-list">
                {manifest.files.map(file => (
                  <li key={file.path}>
                    {file.path} <span>{humanBytes(file.size)}</span>
                  </li>
                ))}
              </ul>
              {manifest.left_out.length > 0 && (
                <>
                  <p className="nbq-Files-heading">{trans.__('Left out:')}</p>
                  <ul className="nbq-Files-list nbq-Files-leftOut">
                    {manifest.left_out.map(entry => (
                      <li key={entry.path}>
                        {entry.path}{' '}
                        <span>
                          {entry.size !== null
                            ? `${humanBytes(entry.size)}, `
                            : ''}
                          {entry.reason}
                        </span>
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </>
          )}
        </details>
        {manifest.bundle && manifest.problem && (
          <p className="nbq-Files-problem" role="alert">
            {manifest.problem}
          </p>
        )}
      </>
    );
  }
  return (
    <div className="nbq-SubmitDialog-field nbq-Files">
      <span>{trans.__('Files')}</span>
      {body}
    </div>
  );
}
