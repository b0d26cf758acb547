import Ajv, { ValidateFunction } from 'ajv';
import * as path from 'path';
import * as fs from 'fs';
import type { JobEvent } from '../jobs/types';

/** The one event schema, shared with the runner, the CLI and the labextension. */
export const EVENT_SCHEMA_PATH = path.join(
  __dirname,
  '..',
  '..',
  'schema',
  'events.schema.json'
);

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(fs.readFileSync(EVENT_SCHEMA_PATH, 'utf8'));
    compiled = new Ajv({ allErrors: false, strict: false }).compile(schema);
  }
  return compiled;
}

/** Returns null when the event is valid, else a sentence saying what is wrong. */
export function eventProblem(event: unknown): string | null {
  const validate = validator();
  if (validate(event)) return null;
  const err = validate.errors?.[0];
  const seq = (event as JobEvent | null)?.seq;
  return `event ${seq ?? '?'}: ${err?.instancePath || '(root)'} ${err?.message ?? 'is invalid'}`;
}
