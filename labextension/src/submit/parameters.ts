/**
 * Parameters in the style of papermill: the cell tagged `parameters` holds
 * `name = literal` lines, which the submit dialog offers for editing.
 */
import type * as nbformat from '@jupyterlab/nbformat';

import type { ParameterValue } from '../service/model';

export interface IParameterRow {
  name: string;
  /** What the user edits; see `parseValue`. */
  text: string;
}

// `name = value` or `name: type = value`; the value may end in a comment.
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]+)?=(?!=)\s*(.+)$/;

/** Rows from the first code cell tagged `parameters`, or none. */
export function parametersFromNotebook(
  cells: readonly nbformat.ICell[]
): IParameterRow[] {
  const cell = cells.find(
    c =>
      c.cell_type === 'code' &&
      Array.isArray(c.metadata?.tags) &&
      (c.metadata.tags as string[]).includes('parameters')
  );
  if (!cell) {
    return [];
  }
  const source = Array.isArray(cell.source)
    ? cell.source.join('')
    : cell.source;
  return parseParameters(source);
}

/** Rows from the simple `name = literal` lines of a cell's source. */
export function parseParameters(source: string): IParameterRow[] {
  const rows: IParameterRow[] = [];
  for (const line of source.split('\n')) {
    // Only top-level statements; indented lines belong to a block.
    const match = ASSIGNMENT.exec(line.trimEnd());
    if (!match) {
      continue;
    }
    const value = pythonLiteralToJson(match[2]);
    if (value === undefined) {
      continue;
    }
    const existing = rows.findIndex(row => row.name === match[1]);
    const row = { name: match[1], text: formatValue(value) };
    if (existing >= 0) {
      rows[existing] = row;
    } else {
      rows.push(row);
    }
  }
  return rows;
}

/**
 * The value sent for an edited text: JSON when it parses as JSON, else the
 * text itself as a string.
 */
export function parseValue(text: string): ParameterValue {
  try {
    return JSON.parse(text) as ParameterValue;
  } catch {
    return text;
  }
}

/**
 * The text shown for a value: strings bare when that reads back as the same
 * string, everything else as JSON.
 */
export function formatValue(value: ParameterValue): string {
  if (typeof value === 'string') {
    const bare = parseValue(value);
    return bare === value ? value : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

/** The parameters object of the rows that have a name. */
export function parametersFromRows(
  rows: readonly IParameterRow[]
): Record<string, ParameterValue> {
  const parameters: Record<string, ParameterValue> = {};
  for (const row of rows) {
    const name = row.name.trim();
    if (name) {
      parameters[name] = parseValue(row.text);
    }
  }
  return parameters;
}

/**
 * The JSON value of a Python literal (numbers, strings, True/False/None,
 * lists, tuples, dicts of those), or undefined when it is anything else.
 */
export function pythonLiteralToJson(
  literal: string
): ParameterValue | undefined {
  let json = '';
  let i = 0;
  while (i < literal.length) {
    const ch = literal[i];
    if (ch === '"' || ch === "'") {
      const end = stringEnd(literal, i);
      if (end < 0) {
        return undefined;
      }
      json += JSON.stringify(unescapePython(literal.slice(i + 1, end)));
      i = end + 1;
      continue;
    }
    const number = NUMBER.exec(literal.slice(i));
    if (number) {
      json += normalizeNumber(number[0]);
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(literal.slice(i));
    if (word) {
      const mapped = KEYWORDS[word[0]];
      if (mapped === undefined) {
        return undefined;
      }
      json += mapped;
      i += word[0].length;
      continue;
    }
    if (ch === '#') {
      break;
    }
    json += ch === '(' ? '[' : ch === ')' ? ']' : ch;
    i++;
  }
  // Python allows trailing commas; JSON does not.
  json = json.replace(/,\s*([\]}])/g, '$1');
  try {
    return JSON.parse(json) as ParameterValue;
  } catch {
    return undefined;
  }
}

// Python number literals: digit separators, `.5`, `5.`, exponents.
const NUMBER = /^(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?/;

/** The JSON spelling of a Python number literal. */
function normalizeNumber(text: string): string {
  const plain = text.replace(/_/g, '');
  const [mantissa, exponent] = plain.split(/[eE]/);
  let digits = mantissa.startsWith('.') ? `0${mantissa}` : mantissa;
  digits = digits.endsWith('.') ? `${digits}0` : digits;
  // JSON forbids leading zeros; Python 3 forbids them too except for 0 itself.
  return exponent === undefined ? digits : `${digits}e${exponent}`;
}

const KEYWORDS: Record<string, string> = {
  True: 'true',
  False: 'false',
  None: 'null'
};

function stringEnd(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
    } else if (text[i] === quote) {
      return i;
    }
  }
  return -1;
}

function unescapePython(body: string): string {
  return body.replace(/\\(.)/g, (_, ch: string) => ESCAPES[ch] ?? ch);
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r' };
