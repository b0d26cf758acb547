import type { AnySchemaObject, ValidateFunction } from 'ajv';
// The nbformat schemas are JSON Schema draft-04, which Ajv 8 reads only through this class.
import Ajv from 'ajv-draft-04';
import * as fs from 'fs';
import * as path from 'path';

/** The official nbformat v4 schemas, copied byte for byte from the Python nbformat package. */
export const NBFORMAT_SCHEMA_DIR = path.join(
  __dirname,
  '..',
  '..',
  'schema',
  'nbformat'
);

/** The newest nbformat 4 minor version nbqueue has a schema for; newer ones validate against it. */
export const NEWEST_MINOR = 5;

export const schemaFile = (minor: number): string =>
  path.join(NBFORMAT_SCHEMA_DIR, `nbformat.v4.${minor}.schema.json`);

/** One nbformat 4.x schema: the whole notebook, and its definitions (a cell, an output) apart. */
export interface NbformatSchema {
  minor: number;
  notebook: ValidateFunction;
  /** A validator for `#/definitions/<name>` (e.g. `code_cell`, `stream`), if the schema has it. */
  definition(name: string): ValidateFunction | undefined;
}

const cache = new Map<number, NbformatSchema>();

/** The schema for a notebook of this nbformat_minor, as nbformat picks it. */
export function nbformatSchema(minor: number): NbformatSchema {
  const m = Math.min(Math.max(Math.trunc(minor), 0), NEWEST_MINOR);
  let found = cache.get(m);
  if (!found) {
    const key = `nbformat.v4.${m}`;
    const schema = JSON.parse(
      fs.readFileSync(schemaFile(m), 'utf8')
    ) as AnySchemaObject;
    const ajv = new Ajv({ allErrors: false, strict: false });
    ajv.addSchema(schema, key);
    const definitions = new Map<string, ValidateFunction | undefined>();
    found = {
      minor: m,
      notebook: ajv.getSchema(key) as ValidateFunction,
      definition(name: string) {
        if (!definitions.has(name))
          definitions.set(
            name,
            (schema.definitions as Record<string, unknown> | undefined)?.[name]
              ? ajv.getSchema(`${key}#/definitions/${name}`)
              : undefined
          );
        return definitions.get(name);
      }
    };
    cache.set(m, found);
  }
  return found;
}
