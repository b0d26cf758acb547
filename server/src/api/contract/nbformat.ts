/**
 * The official nbformat 4.5 schema as OpenAPI components: its definitions become
 * `nbformat.<name>` schemas and its references point at them. The notebook a submit carries
 * is checked against exactly this (older minor versions against their own schema).
 */
import * as fs from 'fs';
import { NEWEST_MINOR, schemaFile } from '../../notebook/schema';

export function nbformatComponents(): Record<string, unknown> {
  const schema = JSON.parse(
    fs.readFileSync(schemaFile(NEWEST_MINOR), 'utf8')
  ) as Record<string, unknown>;
  const rewritten = JSON.parse(
    JSON.stringify(schema).replaceAll(
      '"#/definitions/',
      '"#/components/schemas/nbformat.'
    )
  ) as Record<string, unknown> & { definitions: Record<string, unknown> };
  ecmaDots(rewritten);
  const { definitions, $schema: _dialect, ...notebook } = rewritten;
  void _dialect;
  const out: Record<string, unknown> = { 'nbformat.notebook': notebook };
  for (const [name, def] of Object.entries(definitions))
    out[`nbformat.${name}`] = def;
  return out;
}

/**
 * JSON Schema patterns are ECMA-262 regular expressions, where `.` matches anything but line
 * terminators; tools in other languages read `.` as matching \r too. Spelling it out keeps
 * every reader of the document to the meaning the sidecar's validator (Ajv) gives it.
 */
function ecmaDots(node: unknown): void {
  const spell = (pattern: string) =>
    pattern.replace(/(^|[^\\])\./g, '$1[^\\n\\r\\u2028\\u2029]');
  if (Array.isArray(node)) return node.forEach(ecmaDots);
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (typeof obj.pattern === 'string') obj.pattern = spell(obj.pattern);
  if (obj.patternProperties && typeof obj.patternProperties === 'object')
    obj.patternProperties = Object.fromEntries(
      Object.entries(obj.patternProperties).map(([k, v]) => [spell(k), v])
    );
  Object.values(obj).forEach(ecmaDots);
}
