/**
 * A streaming check that a file is a notebook, for results too large to parse whole: JSON
 * syntax, byte by byte, and nbformat 4's outline (an object with nbformat 4, nbformat_minor,
 * metadata and cells, each cell an object with a known cell_type and a source). Memory stays
 * a few hundred bytes whatever the file's size.
 */

const enum S {
  Value,
  AfterValue,
  Key,
  Colon,
  String,
  Escape,
  Unicode,
  Bare
}

/** What the value being read is, for the outline: where it sits and what key names it. */
interface Frame {
  kind: 'object' | 'array';
  /** The key whose value is being read (objects). */
  key: string | null;
  /** Keys seen (only for the notebook and its cells). */
  keys?: Set<string>;
  empty: boolean;
}

const CELL_TYPES = new Set(['code', 'markdown', 'raw']);
/** Longest key or cell_type kept to compare; longer ones are not the ones looked for. */
const CAPTURE = 64;
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

export class NotebookOutline {
  private state = S.Value;
  private readonly stack: Frame[] = [];
  private offset = 0;
  /** Where the byte being read is, for the message. */
  private at = 0;
  private problem: string | null = null;
  private done = false;
  /** The string or bare token being read, when it matters (kept up to CAPTURE). */
  private token = '';
  private capture = false;
  private stringIsKey = false;
  private unicodeLeft = 0;
  private nbformat: string | null = null;
  private nbformatMinor: string | null = null;
  private cells = 0;

  /** Feeds the next bytes; false once a problem was found (see `result`). */
  write(chunk: Buffer): boolean {
    if (this.problem) return false;
    const n = chunk.length;
    let i = 0;
    while (i < n && !this.problem) {
      this.at = this.offset + i;
      const c = chunk[i];
      switch (this.state) {
        case S.String: {
          // Fast path: long strings (outputs, images) are most of a result.
          let j = i;
          while (j < n) {
            const d = chunk[j];
            if (d === 0x22 || d === 0x5c || d < 0x20) break;
            j++;
          }
          if (this.capture && this.token.length < CAPTURE)
            this.token += chunk.toString('latin1', i, Math.min(j, i + CAPTURE));
          i = j;
          if (i >= n) break;
          const d = chunk[i];
          if (d === 0x22) {
            i++;
            this.endString();
          } else if (d === 0x5c) {
            i++;
            this.state = S.Escape;
          } else this.fail('a control character inside a string');
          continue;
        }
        case S.Escape:
          if (c === 0x75) {
            this.state = S.Unicode;
            this.unicodeLeft = 4;
          } else if ('"\\/bfnrt'.includes(String.fromCharCode(c))) {
            this.state = S.String;
            if (this.capture) this.token += '\\';
          } else this.fail('an invalid escape in a string');
          i++;
          continue;
        case S.Unicode:
          if (!isHex(c)) this.fail('an invalid \\u escape in a string');
          else if (--this.unicodeLeft === 0) this.state = S.String;
          i++;
          continue;
        case S.Bare:
          if (isBare(c)) {
            if (this.token.length > 400) this.fail('a number that is too long');
            this.token += String.fromCharCode(c);
            i++;
            continue;
          }
          this.endBare();
          continue; // c is read again after the token
      }
      if (isSpace(c)) {
        i++;
        continue;
      }
      switch (this.state) {
        case S.Value:
          this.startValue(c);
          break;
        case S.Key:
          if (c === 0x22) {
            (this.top() as Frame).empty = false;
            this.state = S.String;
            this.stringIsKey = true;
            this.capture = true;
            this.token = '';
          } else if (c === 0x7d && this.top()?.empty) this.close(0x7d);
          else this.fail('a key (a string) expected');
          break;
        case S.Colon:
          if (c === 0x3a) this.state = S.Value;
          else this.fail('":" expected after a key');
          break;
        case S.AfterValue:
          this.afterValue(c);
          break;
      }
      i++;
    }
    this.offset += i;
    return !this.problem;
  }

  /** The problem found, or null when the whole file was a notebook. Call after the last write. */
  end(): string | null {
    if (this.problem) return this.problem;
    if (this.state === S.Bare) this.endBare();
    if (this.problem) return this.problem;
    if (!this.done) return 'the file ends before the notebook does';
    return null;
  }

  private top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  private fail(what: string): void {
    this.problem ??= `${what} (at byte ${this.at})`;
  }

  /** Where a value starts: depth 0 the notebook, 1 its fields, 2 a cell, 3 a cell's fields. */
  private startValue(c: number): void {
    if (this.done) return this.fail('more after the notebook');
    const depth = this.stack.length;
    const parent = this.top();
    if (c === 0x5d && parent?.kind === 'array' && parent.empty)
      return this.close(0x5d);
    if (parent) parent.empty = false;
    const key = parent?.key ?? null;
    if (depth === 0 && c !== 0x7b)
      return this.fail('the notebook must be a JSON object');
    if (depth === 1 && key === 'metadata' && c !== 0x7b)
      return this.fail('"metadata" must be an object');
    if (depth === 1 && key === 'cells' && c !== 0x5b)
      return this.fail('"cells" must be an array');
    const inCells = depth === 2 && this.stack[0].key === 'cells';
    if (inCells && c !== 0x7b)
      return this.fail(`cells[${this.cells}] must be an object`);
    if (c === 0x7b || c === 0x5b) {
      const track = depth === 0 || inCells;
      this.stack.push({
        kind: c === 0x7b ? 'object' : 'array',
        key: null,
        keys: track ? new Set() : undefined,
        empty: true
      });
      this.state = c === 0x7b ? S.Key : S.Value;
      return;
    }
    if (c === 0x22) {
      this.state = S.String;
      this.stringIsKey = false;
      this.capture =
        depth === 3 && key === 'cell_type' && this.stack[0].key === 'cells';
      this.token = '';
      if (depth === 1 && key === 'nbformat')
        this.fail('"nbformat" must be the number 4');
      return;
    }
    if (
      c === 0x2d ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x74 ||
      c === 0x66 ||
      c === 0x6e
    ) {
      this.state = S.Bare;
      this.token = String.fromCharCode(c);
      return;
    }
    this.fail(`unexpected ${JSON.stringify(String.fromCharCode(c))}`);
  }

  private endString(): void {
    const frame = this.top() as Frame;
    if (this.stringIsKey) {
      frame.key = this.token;
      frame.keys?.add(this.token);
      this.state = S.Colon;
      this.capture = false;
      return;
    }
    if (this.capture && !CELL_TYPES.has(this.token))
      return this.fail(
        `cells[${this.cells}] has cell_type ${JSON.stringify(this.token.slice(0, 32))}; it must be code, markdown or raw`
      );
    this.capture = false;
    this.state = S.AfterValue;
  }

  private endBare(): void {
    const t = this.token;
    if (t !== 'true' && t !== 'false' && t !== 'null' && !NUMBER.test(t))
      return this.fail(`an invalid value ${JSON.stringify(t.slice(0, 32))}`);
    const frame = this.top();
    if (this.stack.length === 1 && frame?.key === 'nbformat') this.nbformat = t;
    if (this.stack.length === 1 && frame?.key === 'nbformat_minor')
      this.nbformatMinor = t;
    this.state = S.AfterValue;
  }

  private afterValue(c: number): void {
    const frame = this.top();
    if (!frame) return this.fail('more after the notebook');
    if (c === 0x2c) {
      this.state = frame.kind === 'object' ? S.Key : S.Value;
      if (frame.kind === 'object') frame.key = null;
      return;
    }
    if (
      (c === 0x7d && frame.kind === 'object') ||
      (c === 0x5d && frame.kind === 'array')
    )
      return this.close(c);
    this.fail(`"," or "${frame.kind === 'object' ? '}' : ']'}" expected`);
  }

  private close(c: number): void {
    const frame = this.stack.pop() as Frame;
    if (frame.kind !== (c === 0x7d ? 'object' : 'array'))
      return this.fail('mismatched brackets');
    if (this.stack.length === 0) this.checkNotebook(frame);
    else if (this.stack.length === 2 && this.stack[0].key === 'cells')
      this.checkCell(frame);
    if (this.problem) return;
    if (this.stack.length === 0) this.done = true;
    this.state = S.AfterValue;
    if (this.done) this.state = S.Value;
  }

  private checkNotebook(frame: Frame): void {
    for (const key of ['nbformat', 'nbformat_minor', 'metadata', 'cells'])
      if (!frame.keys?.has(key))
        return this.fail(`the notebook has no "${key}"`);
    if (this.nbformat !== '4')
      return this.fail(`"nbformat" is ${this.nbformat}, not 4`);
    if (!/^(0|[1-9]\d*)$/.test(this.nbformatMinor ?? ''))
      this.fail('"nbformat_minor" must be a whole number');
  }

  private checkCell(frame: Frame): void {
    for (const key of ['cell_type', 'source'])
      if (!frame.keys?.has(key))
        return this.fail(`cells[${this.cells}] has no "${key}"`);
    this.cells += 1;
  }
}

const isSpace = (c: number) =>
  c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isHex = (c: number) =>
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x41 && c <= 0x46) ||
  (c >= 0x61 && c <= 0x66);
/** Characters of numbers and of true/false/null. */
const isBare = (c: number) =>
  (c >= 0x30 && c <= 0x39) ||
  c === 0x2d ||
  c === 0x2b ||
  c === 0x2e ||
  (c >= 0x61 && c <= 0x7a) ||
  c === 0x45;
