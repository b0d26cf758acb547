/**
 * A labelled filter <select> (state, queue, owner), the same in the Jobs panel
 * and the Jobs table; "all" is the empty value where the filter has one.
 */
import * as React from 'react';

import type { TranslationBundle } from '../translation';
import { STATE_FILTERS, StateFilter } from './rows';

export interface IFilterChoice {
  value: string;
  label: string;
}

export function FilterSelect(props: {
  label: string;
  name: string;
  value: string;
  choices: IFilterChoice[];
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <label>
      {props.label}{' '}
      <select
        name={props.name}
        value={props.value}
        onChange={e => props.onChange(e.currentTarget.value)}
      >
        {props.choices.map(choice => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The state filter's choices, from its labels. */
export function stateChoices(
  labels: Record<StateFilter, string>
): IFilterChoice[] {
  return STATE_FILTERS.map(state => ({ value: state, label: labels[state] }));
}

/** "all" (the empty value), then each of `values` as itself. */
export function anyOf(
  values: string[],
  trans: TranslationBundle
): IFilterChoice[] {
  return [
    { value: '', label: trans.__('all') },
    ...values.map(value => ({ value, label: value }))
  ];
}
