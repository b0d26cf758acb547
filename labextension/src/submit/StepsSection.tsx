/**
 * The submit dialog's pipeline steps, shown by "Add step": the open notebook
 * runs first, then each step's notebook (a path in the Jupyter contents),
 * each with its own profile and parameters.
 */
import * as React from 'react';

import type { IProfile } from '../service/model';
import type { TranslationBundle } from '../translation';
import type { IStepValues } from './schedule';

export function StepsSection(props: {
  steps: IStepValues[];
  profiles: IProfile[];
  /** The profile of a new step: the dialog's. */
  defaultProfile: string;
  onChange: (steps: IStepValues[]) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { steps, onChange, trans } = props;
  return (
    <>
      {steps.length > 0 && <StepList {...props} />}
      <button
        type="button"
        className="jp-mod-styled nbq-SubmitDialog-addStep"
        title={trans.__(
          'Run another notebook after this one: Submit then starts a pipeline'
        )}
        onClick={() =>
          onChange([
            ...steps,
            { path: '', profile: props.defaultProfile, parameters: '' }
          ])
        }
      >
        {trans.__('Add step')}
      </button>
    </>
  );
}

function StepList(props: {
  steps: IStepValues[];
  profiles: IProfile[];
  onChange: (steps: IStepValues[]) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { steps, profiles, onChange, trans } = props;
  const setStep = (index: number, change: Partial<IStepValues>) =>
    onChange(steps.map((s, i) => (i === index ? { ...s, ...change } : s)));
  return (
    <fieldset className="nbq-StepsSection">
      <legend>{trans.__('Pipeline steps')}</legend>
      <p className="nbq-SubmitDialog-hint">
        {trans.__(
          'This notebook runs first; each step starts when the one before it has succeeded, with its outputs as parameters.'
        )}
      </p>
      {steps.map((step, index) => (
        <div className="nbq-Step" key={index}>
          <input
            name="step-path"
            className="jp-mod-styled"
            type="text"
            placeholder="folder/next.ipynb"
            aria-label={trans.__('Notebook of step %1', index + 2)}
            value={step.path}
            onChange={event => setStep(index, { path: event.target.value })}
          />
          <select
            name="step-profile"
            className="jp-mod-styled"
            aria-label={trans.__('Profile of step %1', index + 2)}
            value={step.profile}
            onChange={event => setStep(index, { profile: event.target.value })}
          >
            {profiles.map(profile => (
              <option key={profile.name} value={profile.name}>
                {profile.name}
              </option>
            ))}
          </select>
          <input
            name="step-parameters"
            className="jp-mod-styled"
            type="text"
            placeholder='{"lr": 0.1}'
            aria-label={trans.__('Parameters of step %1', index + 2)}
            title={trans.__('Optional: a JSON object')}
            value={step.parameters}
            onChange={event =>
              setStep(index, { parameters: event.target.value })
            }
          />
          <button
            type="button"
            className="jp-mod-styled nbq-Step-remove"
            title={trans.__('Remove this step')}
            onClick={() => onChange(steps.filter((_, i) => i !== index))}
          >
            ×
          </button>
        </div>
      ))}
    </fieldset>
  );
}
