/**
 * The Jobs panel's tabs: the jobs list, and the schedules.
 */
import * as React from 'react';

import type { TranslationBundle } from '../translation';

export type PanelTab = 'jobs' | 'schedules';

export function PanelTabs(props: {
  jobs: JSX.Element;
  schedules: JSX.Element;
  /** Called when a tab is opened (the schedules are read again). */
  onOpen?: (tab: PanelTab) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const [tab, setTab] = React.useState<PanelTab>('jobs');
  const labels: Record<PanelTab, string> = {
    jobs: trans.__('Jobs'),
    schedules: trans.__('Schedules')
  };
  return (
    <div className="nbq-PanelTabs">
      <div className="nbq-PanelTabs-bar" role="tablist">
        {(['jobs', 'schedules'] as const).map(name => (
          <button
            key={name}
            type="button"
            role="tab"
            className="nbq-PanelTab"
            data-tab={name}
            aria-selected={tab === name}
            onClick={() => {
              setTab(name);
              props.onOpen?.(name);
            }}
          >
            {labels[name]}
          </button>
        ))}
      </div>
      <div className="nbq-PanelTabs-body" role="tabpanel">
        {tab === 'jobs' ? props.jobs : props.schedules}
      </div>
    </div>
  );
}
