/**
 * The Jobs table's selection, as in JupyterLab's file browser: a click
 * selects one row, Ctrl/Cmd-click toggles one, Shift-click selects the range
 * from the last row clicked, Ctrl/Cmd-A selects every row shown.
 */
export interface IClickModifiers {
  /** Shift: the range from the anchor. */
  shift?: boolean;
  /** Ctrl (Cmd on macOS): toggle this row, keep the others. */
  toggle?: boolean;
}

export class TableSelection {
  get ids(): ReadonlySet<string> {
    return this._ids;
  }

  has(id: string): boolean {
    return this._ids.has(id);
  }

  /** A click on the row `id`; `order` is the rows' ids as shown. */
  click(id: string, order: readonly string[], modifiers: IClickModifiers = {}) {
    if (modifiers.shift && this._anchor !== null) {
      const from = order.indexOf(this._anchor);
      const to = order.indexOf(id);
      if (from !== -1 && to !== -1) {
        const [lo, hi] = from < to ? [from, to] : [to, from];
        if (!modifiers.toggle) {
          this._ids.clear();
        }
        for (const rowId of order.slice(lo, hi + 1)) {
          this._ids.add(rowId);
        }
        return;
      }
    }
    if (modifiers.toggle) {
      if (!this._ids.delete(id)) {
        this._ids.add(id);
      }
    } else {
      this._ids.clear();
      this._ids.add(id);
    }
    this._anchor = id;
  }

  selectAll(order: readonly string[]): void {
    this._ids = new Set(order);
  }

  clear(): void {
    this._ids.clear();
    this._anchor = null;
  }

  /** Forget rows no longer shown (filtered out, or gone). */
  keepOnly(order: readonly string[]): void {
    const shown = new Set(order);
    for (const id of [...this._ids]) {
      if (!shown.has(id)) {
        this._ids.delete(id);
      }
    }
    if (this._anchor !== null && !shown.has(this._anchor)) {
      this._anchor = null;
    }
  }

  private _ids = new Set<string>();
  private _anchor: string | null = null;
}
