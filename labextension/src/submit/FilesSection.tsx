/**
 * The submit dialog's "Files" line: how many files of the notebook's folder
 * go with the job and their size, what was left out and why (expandable), and
 * what to add to .nbqueueignore when they are over the limit.
 */
import * as React from 'react';

import { FilesProbe, humanBytes, manifestSummary } from './files';

export function FilesSection(props: { probe: FilesProbe }): React.ReactElement {
  const state = props.probe.state;
  let body: React.ReactNode;
  if (state.status === 'loading') {
    body = (
      <span className="nbq-SubmitDialog-loading">
        <span className="nbq-Spinner" aria-hidden="true" />
        Listing the notebook&apos;s folder…
      </span>
    );
  } else if (state.status === 'failed') {
    body = (
      <span className="nbq-Files-problem" role="alert">
        The notebook&apos;s files cannot be listed: {state.error}. The job runs
        without them.
      </span>
    );
  } else {
    const manifest = state.manifest;
    body = (
      <>
        <details className="nbq-Files-details">
          <summary className="nbq-Files-summary">
            {manifestSummary(manifest)}
          </summary>
          {manifest.bundle && (
            <>
              <p className="nbq-Files-heading">
                Going from {manifest.root || 'the root folder'} (limit{' '}
                {humanBytes(manifest.max_bytes)}):
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
                  <p className="nbq-Files-heading">Left out:</p>
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
      <span>Files</span>
      {body}
    </div>
  );
}
