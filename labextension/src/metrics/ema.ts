/**
 * Exponential moving average as TensorBoard smooths scalars: debiased, so the
 * first points are not pulled towards zero; gaps (null) stay gaps and do not
 * reset the average.
 */

/** TensorBoard's default smoothing weight. */
export const DEFAULT_SMOOTHING = 0.6;

/**
 * An EMA that can be extended point by point, so a live chart smooths only
 * the new points of each update.
 */
export class Ema {
  constructor(readonly weight: number) {
    if (!(weight >= 0 && weight < 1)) {
      throw new RangeError(`smoothing weight must be in [0, 1): ${weight}`);
    }
  }

  /** The smoothed values so far, one per value given. */
  get values(): readonly (number | null)[] {
    return this._out;
  }

  /** Smooth further values, appending to `values`. */
  extend(values: readonly (number | null)[]): void {
    const w = this.weight;
    for (const value of values) {
      if (value === null || !Number.isFinite(value)) {
        this._out.push(null);
        continue;
      }
      this._last = this._last * w + (1 - w) * value;
      this._count += 1;
      this._constant &&= this._first === null || value === this._first;
      this._first ??= value;
      // 1 - w^count: the weight the average has gathered so far.
      const debias = w === 0 ? 1 : 1 - Math.pow(w, this._count);
      // A constant stays exactly constant (as in TensorBoard), rather than
      // wobbling by rounding errors that the y axis would zoom in on.
      this._out.push(this._constant ? value : this._last / debias);
    }
  }

  private _last = 0;
  private _count = 0;
  private _first: number | null = null;
  private _constant = true;
  private _out: (number | null)[] = [];
}

/** The smoothed values of `values` (weight 0 leaves them as they are). */
export function ema(
  values: readonly (number | null)[],
  weight: number = DEFAULT_SMOOTHING
): (number | null)[] {
  const smoother = new Ema(weight);
  smoother.extend(values);
  return smoother.values.slice();
}
