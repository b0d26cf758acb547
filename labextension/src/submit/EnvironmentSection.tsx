/**
 * The submit dialog's "Environment" line: capture from the notebook's kernel
 * when the dialog opens, a one-line summary with expandable details, and a
 * "Start kernel" button when none runs.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { describe } from '../service/errors';
import { nbqueueBundle, TranslationBundle } from '../translation';
import { captureEnvironment, IKernelEnvironment } from './environment';
import { environmentDetails, environmentSummary } from './envSummary';

export type EnvironmentState =
  | { status: 'capturing' }
  | { status: 'captured'; env: IKernelEnvironment }
  | { status: 'no-kernel' }
  | { status: 'starting' }
  | { status: 'failed'; error: string };

/** Captures the environment of a session's kernel and says how it went. */
export class EnvironmentProbe {
  constructor(
    private readonly _session: Pick<ISessionContext, 'session' | 'startKernel'>,
    capture?: (kernel: Kernel.IKernelConnection) => Promise<IKernelEnvironment>,
    private readonly _trans: TranslationBundle = nbqueueBundle()
  ) {
    this._capture = capture ?? (kernel => captureEnvironment(kernel, _trans));
  }

  get state(): EnvironmentState {
    return this._state;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Captures now; resolves with the state it ends in. */
  capture(): Promise<EnvironmentState> {
    const kernel = this._session.session?.kernel;
    if (!kernel) {
      this._set({ status: 'no-kernel' });
      return Promise.resolve(this._state);
    }
    this._set({ status: 'capturing' });
    this._pending = this._capture(kernel).then(
      env => this._set({ status: 'captured', env }),
      error => this._set({ status: 'failed', error: describe(error) })
    );
    return this._pending;
  }

  /** Starts the notebook's kernel, then captures. */
  async startKernel(): Promise<EnvironmentState> {
    this._set({ status: 'starting' });
    try {
      const mustChoose = await this._session.startKernel();
      if (mustChoose || !this._session.session?.kernel) {
        return this._set({
          status: 'failed',
          error: this._trans.__(
            'choose a kernel for this notebook (Kernel › Change Kernel…), then submit again'
          )
        });
      }
    } catch (error) {
      return this._set({
        status: 'failed',
        error: this._trans.__('the kernel could not start: %1', describe(error))
      });
    }
    return this.capture();
  }

  /** The state once any capture in progress has ended. */
  async settled(): Promise<EnvironmentState> {
    if (this._pending) {
      await this._pending;
    }
    return this._state;
  }

  private _set(state: EnvironmentState): EnvironmentState {
    this._state = state;
    this._changed.emit();
    return state;
  }

  private readonly _capture: (
    kernel: Kernel.IKernelConnection
  ) => Promise<IKernelEnvironment>;
  private _state: EnvironmentState = { status: 'capturing' };
  private _pending: Promise<EnvironmentState> | null = null;
  private _changed = new Signal<this, void>(this);
}

export function EnvironmentSection(props: {
  probe: EnvironmentProbe;
  trans: TranslationBundle;
}): React.ReactElement {
  const { probe, trans } = props;
  const state = probe.state;
  let body: React.ReactNode;
  switch (state.status) {
    case 'capturing':
    case 'starting':
      body = (
        <span className="nbq-SubmitDialog-loading">
          <span className="nbq-Spinner" aria-hidden="true" />
          {state.status === 'starting'
            ? trans.__('Starting the kernel…')
            : trans.__('Asking the kernel for its environment…')}
        </span>
      );
      break;
    case 'no-kernel':
      body = (
        <span className="nbq-Environment-missing">
          {trans.__(
            'No kernel is running, so its environment cannot be captured.'
          )}{' '}
          <button
            type="button"
            className="jp-mod-styled nbq-Environment-start"
            onClick={() => void probe.startKernel()}
          >
            {trans.__('Start kernel')}
          </button>
        </span>
      );
      break;
    case 'failed':
      body = (
        <span className="nbq-Environment-missing" role="alert">
          {trans.__(
            "Not captured: %1. The job runs with the sidecar's default Python.",
            state.error
          )}
        </span>
      );
      break;
    case 'captured': {
      const { rows, packages } = environmentDetails(
        state.env.environment,
        trans
      );
      body = (
        <details className="nbq-Environment-details">
          <summary className="nbq-Environment-summary">
            {environmentSummary(state.env.environment, trans)}
          </summary>
          <table>
            <tbody>
              {rows.map(([label, value]) => (
                <tr key={label}>
                  <th scope="row">{label}</th>
                  <td>{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <ul className="nbq-Environment-packages">
            {packages.map(line => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </details>
      );
      break;
    }
  }
  return (
    <div className="nbq-SubmitDialog-field nbq-Environment">
      <span>{trans.__('Environment')}</span>
      {body}
    </div>
  );
}
