import type { ErrorObject, ValidateFunction } from 'ajv';
import { nbformatSchema, NbformatSchema } from './schema';

/** The first thing wrong with a notebook: where (a JSON path such as `cells[3].outputs[0]`) and what. */
export interface NotebookProblem {
  /** JSON path inside the notebook; '' for the notebook itself. */
  path: string;
  /** What is wrong there, e.g. `'output_type' is required`. */
  problem: string;
  /** The nbformat version whose schema it was checked against, e.g. '4.4'. */
  version: string | null;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const kind = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'an object'
        : typeof v === 'string'
          ? 'a string'
          : typeof v === 'number'
            ? 'a number'
            : typeof v === 'boolean'
              ? 'a boolean'
              : typeof v;

const TYPE_NAMES: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'null'
};

const CELL_DEFINITIONS: Record<string, string> = {
  code: 'code_cell',
  markdown: 'markdown_cell',
  raw: 'raw_cell'
};
const OUTPUT_TYPES = ['execute_result', 'display_data', 'stream', 'error'];

/** `cells[3].outputs[0].data['text/plain']` from a base and a JSON pointer. */
export function joinPath(base: string, pointer = ''): string {
  let out = base;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part))
      out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function valueAt(root: unknown, pointer: string): unknown {
  let v = root;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    v = (v as Record<string, unknown> | undefined)?.[part];
  }
  return v;
}

/** One ajv error as a sentence fragment, and the path it is about. */
function describe(
  errors: ErrorObject[],
  instance: unknown,
  base: string,
  minor: number
): { path: string; problem: string } {
  const first = errors.find(e => e.keyword !== 'oneOf') ?? errors[0];
  // A multiline string (a string or a list of strings) fails as a oneOf of two types.
  const multiline = errors.find(
    e =>
      e.keyword === 'oneOf' &&
      errors.some(
        b =>
          b.schemaPath === `${e.schemaPath}/0/type` &&
          (b.params as { type?: unknown }).type === 'string'
      ) &&
      (first.instancePath === e.instancePath ||
        first.instancePath.startsWith(`${e.instancePath}/`))
  );
  if (multiline)
    return {
      path: joinPath(base, multiline.instancePath),
      problem: `must be a string or a list of strings, not ${kind(valueAt(instance, multiline.instancePath))}`
    };
  const where = joinPath(base, first.instancePath);
  const p = first.params as Record<string, unknown>;
  switch (first.keyword) {
    case 'required':
      return {
        path: where,
        problem: `'${String(p.missingProperty)}' is required`
      };
    case 'additionalProperties': {
      const name = String(p.additionalProperty);
      const hint =
        name === 'id' && minor < 5
          ? ` (cell ids came with nbformat 4.5; this notebook says 4.${minor})`
          : '';
      return { path: where, problem: `'${name}' is not allowed here${hint}` };
    }
    case 'type': {
      const types = String(p.type)
        .split(',')
        .map(t => TYPE_NAMES[t] ?? t);
      return {
        path: where,
        problem: `must be ${types.join(' or ')}, not ${kind(valueAt(instance, first.instancePath))}`
      };
    }
    case 'enum':
      return {
        path: where,
        problem: `${JSON.stringify(valueAt(instance, first.instancePath))} is not one of ${(p.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')}`
      };
    case 'pattern':
      return {
        path: where,
        problem: `${JSON.stringify(valueAt(instance, first.instancePath))} does not match ${String(p.pattern)}`
      };
    default:
      return { path: where, problem: first.message ?? 'is not valid' };
  }
}

function check(
  validate: ValidateFunction | undefined,
  value: unknown,
  base: string,
  minor: number
): { path: string; problem: string } | null {
  if (!validate || validate(value)) return null;
  return describe(validate.errors ?? [], value, base, minor);
}

/** Walks cells and outputs one by one, so a broken one is named rather than "matches no oneOf". */
function walk(
  nb: Record<string, unknown>,
  schema: NbformatSchema
): { path: string; problem: string } | null {
  const m = schema.minor;
  const cells = nb.cells;
  const top = check(
    schema.notebook,
    { ...nb, cells: Array.isArray(cells) ? [] : cells },
    '',
    m
  );
  if (top) return top;
  for (const [i, cell] of (cells as unknown[]).entries()) {
    const at = `cells[${i}]`;
    if (!isObject(cell))
      return { path: at, problem: `must be an object, not ${kind(cell)}` };
    if (cell.cell_type === undefined)
      return { path: at, problem: "'cell_type' is required" };
    const definition = CELL_DEFINITIONS[cell.cell_type as string];
    if (!definition)
      return {
        path: `${at}.cell_type`,
        problem: `${JSON.stringify(cell.cell_type)} is not a cell type; use "code", "markdown" or "raw"`
      };
    const outputs = cell.outputs;
    const shallow =
      definition === 'code_cell' && Array.isArray(outputs)
        ? { ...cell, outputs: [] }
        : cell;
    const found = check(schema.definition(definition), shallow, at, m);
    if (found) return found;
    if (definition !== 'code_cell') continue;
    for (const [j, output] of (outputs as unknown[]).entries()) {
      const o = `${at}.outputs[${j}]`;
      if (!isObject(output))
        return { path: o, problem: `must be an object, not ${kind(output)}` };
      if (output.output_type === undefined)
        return { path: o, problem: "'output_type' is required" };
      if (!OUTPUT_TYPES.includes(output.output_type as string))
        return {
          path: `${o}.output_type`,
          problem: `${JSON.stringify(output.output_type)} is not an output type; use ${OUTPUT_TYPES.map(t => `"${t}"`).join(', ')}`
        };
      const bad = check(
        schema.definition(output.output_type as string),
        output,
        o,
        m
      );
      if (bad) return bad;
    }
  }
  return null;
}

function duplicateId(
  cells: unknown[]
): { path: string; problem: string } | null {
  const seen = new Map<string, number>();
  for (const [i, cell] of cells.entries()) {
    const id = (cell as { id?: unknown }).id;
    if (typeof id !== 'string') continue;
    const before = seen.get(id);
    if (before !== undefined)
      return {
        path: `cells[${i}].id`,
        problem: `'${id}' is also the id of cells[${before}]; cell ids must be unique`
      };
    seen.set(id, i);
  }
  return null;
}

/**
 * The first problem of a notebook against the official nbformat v4 schema of its minor version
 * (4.0 to 4.5; a newer minor is checked against 4.5, as nbformat does), or null when it is valid.
 * Cells of a 4.5+ notebook may lack ids (they are added later); ids present must be unique.
 */
export function findProblem(nb: unknown): NotebookProblem | null {
  if (!isObject(nb))
    return {
      path: '',
      problem: `must be a JSON object, not ${kind(nb)}`,
      version: null
    };
  if (nb.nbformat !== 4)
    return {
      path: 'nbformat',
      problem:
        nb.nbformat === undefined
          ? "'nbformat' is required"
          : `is ${JSON.stringify(nb.nbformat)}; nbqueue takes nbformat 4 notebooks (4.0 to 4.5)`,
      version: null
    };
  const minor = nb.nbformat_minor;
  if (typeof minor !== 'number' || !Number.isInteger(minor) || minor < 0)
    return {
      path: 'nbformat_minor',
      problem:
        minor === undefined
          ? "'nbformat_minor' is required"
          : `must be a whole number from 0, not ${JSON.stringify(minor)}`,
      version: null
    };
  const schema = nbformatSchema(minor);
  const version = `4.${schema.minor}`;
  // Ids are what 4.5 added; a 4.5 notebook without them is read as nbformat reads it: ids added.
  const cells = nb.cells;
  const subject =
    schema.minor >= 5 && Array.isArray(cells)
      ? {
          ...nb,
          cells: cells.map((c: unknown) =>
            isObject(c) && c.id === undefined ? { ...c, id: 'x' } : c
          )
        }
      : nb;
  if (!schema.notebook(subject)) {
    const found = walk(subject, schema) ?? {
      path: joinPath('', schema.notebook.errors?.[0]?.instancePath),
      problem: schema.notebook.errors?.[0]?.message ?? 'is not valid'
    };
    return { ...found, version };
  }
  const dup = duplicateId(cells as unknown[]);
  return dup ? { ...dup, version } : null;
}
