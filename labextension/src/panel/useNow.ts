/** A React hook for views that show elapsed times (the Jobs panel and table). */
import * as React from 'react';

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
