/** React hooks shared by the Jobs panel, the Jobs table and the Schedules view. */
import type { ISignal } from '@lumino/signaling';
import * as React from 'react';

/** Renders again on each `changed` of the model (none given: never); the change count. */
export function useModel<T>(
  model: { changed: ISignal<T, void> } | null
): number {
  const [version, setVersion] = React.useState(0);
  React.useEffect(() => {
    const bump = () => setVersion(v => v + 1);
    model?.changed.connect(bump);
    return () => {
      model?.changed.disconnect(bump);
    };
  }, [model]);
  return version;
}

/** The current time, once a second while something ticks. */
export function useNow(ticking: boolean): number {
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    if (!ticking) {
      return;
    }
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [ticking]);
  return ticking ? now : Date.now();
}
