/**
 * Downsampling for display: Largest-Triangle-Three-Buckets (Steinarsson,
 * 2013) with each bucket's minimum and maximum always kept, so a one-point
 * spike (a loss blow-up, a NaN-adjacent outlier) is never smoothed away, and
 * with gaps (null) kept as gaps. Pure: it picks indices, the caller keeps the
 * full data.
 */

/** At most this many points per drawn trace. */
export const MAX_POINTS = 2000;

/**
 * The indices of the points to draw, in increasing order: all of them when
 * there are at most `threshold`, otherwise at most `threshold`, always
 * including the first, the last, each bucket's minimum and maximum (so the
 * global extremes), and, for each bucket holding a gap, one null so the line
 * breaks there.
 */
export function downsample(
  x: ArrayLike<number>,
  y: ArrayLike<number | null>,
  threshold: number = MAX_POINTS
): number[] {
  const n = y.length;
  if (n <= threshold) {
    return range(n);
  }
  let hasGap = false;
  for (let i = 1; i < n - 1 && !hasGap; i++) {
    hasGap = y[i] === null;
  }
  // Each bucket gives up to three points (LTTB's, min, max), four with a gap.
  const perBucket = hasGap ? 4 : 3;
  const buckets = Math.floor((threshold - 2) / perBucket);
  if (buckets < 1) {
    return threshold >= 2 ? [0, n - 1] : [0].slice(0, threshold);
  }
  const interior = n - 2;
  const bounds = (b: number) => 1 + Math.floor((b * interior) / buckets);

  const picked: number[] = [0];
  // LTTB's fixed corner: the last non-null point picked so far.
  let anchor = y[0] === null ? -1 : 0;
  for (let b = 0; b < buckets; b++) {
    const start = bounds(b);
    const end = bounds(b + 1);

    // The third corner: the average of the next bucket (or the last point).
    let avgX = 0;
    let avgY = 0;
    let count = 0;
    const nextStart = end;
    const nextEnd = b + 1 < buckets ? bounds(b + 2) : n;
    for (let i = nextStart; i < nextEnd; i++) {
      const v = y[i];
      if (v !== null) {
        avgX += x[i];
        avgY += v;
        count++;
      }
    }

    let min = -1;
    let max = -1;
    let gap = -1;
    let best = -1;
    let bestArea = -1;
    for (let i = start; i < end; i++) {
      const v = y[i];
      if (v === null) {
        if (gap < 0) {
          gap = i;
        }
        continue;
      }
      if (min < 0 || v < (y[min] as number)) {
        min = i;
      }
      if (max < 0 || v > (y[max] as number)) {
        max = i;
      }
      if (anchor >= 0 && count > 0) {
        const ax = x[anchor];
        const ay = y[anchor] as number;
        // Twice the triangle's area; only the comparison matters.
        const area = Math.abs(
          (ax - avgX / count) * (v - ay) - (ax - x[i]) * (avgY / count - ay)
        );
        if (area > bestArea) {
          bestArea = area;
          best = i;
        }
      }
    }

    const chosen = [best, min, max, gap]
      .filter(i => i >= 0)
      .sort((a, c) => a - c);
    for (let k = 0; k < chosen.length; k++) {
      if (k === 0 || chosen[k] !== chosen[k - 1]) {
        picked.push(chosen[k]);
        if (y[chosen[k]] !== null) {
          anchor = chosen[k];
        }
      }
    }
  }
  picked.push(n - 1);
  return picked;
}

/** The values at `indices`. */
export function take<T>(values: ArrayLike<T>, indices: readonly number[]): T[] {
  const out = new Array<T>(indices.length);
  for (let k = 0; k < indices.length; k++) {
    out[k] = values[indices[k]];
  }
  return out;
}

function range(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    out[i] = i;
  }
  return out;
}
