/**
 * Units of the runner's system metrics (`system/cpu_percent`,
 * `system/memory_bytes`, `system/gpu0/utilization_percent`, ...): the unit a
 * name says, the chart a metric goes on (one per unit, so bytes and percents
 * never share an axis), and the scale of a y axis in bytes (MiB or GiB).
 * User metrics have no unit: they are drawn as logged.
 */
export type Unit = 'bytes' | 'percent';

/** How a y axis shows values: divided by `divisor`, with `suffix`. */
export interface IAxisScale {
  divisor: number;
  /** "MiB", "GiB" or "%". */
  suffix: string;
}

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** The unit a metric's name ends with, or null. */
export function unitOf(name: string): Unit | null {
  if (name.endsWith('_bytes')) {
    return 'bytes';
  }
  if (name.endsWith('_percent')) {
    return 'percent';
  }
  return null;
}

/** The chart of a system metric: "memory" (bytes), "utilization" (%), or its prefix. */
export function systemGroupOf(name: string): string {
  switch (unitOf(name)) {
    case 'bytes':
      return 'memory';
    case 'percent':
      return 'utilization';
    default:
      return name.split('/')[0] || name;
  }
}

/**
 * The scale of an axis of `unit` whose largest value is `max`: GiB from 1
 * GiB up, MiB below (a process of a few hundred MiB reads as such).
 */
export function axisScale(unit: Unit, max: number): IAxisScale {
  if (unit === 'percent') {
    return { divisor: 1, suffix: '%' };
  }
  return Number.isFinite(max) && max >= GIB
    ? { divisor: GIB, suffix: 'GiB' }
    : { divisor: MIB, suffix: 'MiB' };
}

/** The one unit of these metric names, or null if none or mixed. */
export function commonUnit(names: readonly string[]): Unit | null {
  const units = new Set(names.map(unitOf));
  const [only] = [...units];
  return units.size === 1 ? only : null;
}
