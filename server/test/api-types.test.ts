/**
 * The Job shape is written three times: the server's JobView, the OpenAPI schema clients
 * read, and the labextension's IJob. This reads the two TypeScript interfaces with the
 * TypeScript compiler and checks all three name the same fields, required the same way.
 */
import * as path from 'path';
import ts from 'typescript';
import { openApiDocument } from '../src/api/openapi';
import { REPO } from './helpers';

/** Field name -> optional, of an exported interface in a source file. */
function fieldsOf(file: string, name: string): Map<string, boolean> {
  const program = ts.createProgram([file], { noResolve: true });
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`cannot read ${file}`);
  let found: ts.InterfaceDeclaration | undefined;
  source.forEachChild(node => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === name)
      found = node;
  });
  if (!found) throw new Error(`no interface ${name} in ${file}`);
  const fields = new Map<string, boolean>();
  for (const member of found.members)
    if (ts.isPropertySignature(member) && ts.isIdentifier(member.name))
      fields.set(member.name.text, member.questionToken !== undefined);
  return fields;
}

const jobSchema = (
  openApiDocument() as {
    components: {
      schemas: {
        Job: { required: string[]; properties: Record<string, unknown> };
      };
    };
  }
).components.schemas.Job;

describe('the Job shape', () => {
  const server = fieldsOf(
    path.join(REPO, 'server/src/jobs/types.ts'),
    'JobView'
  );
  const labextension = fieldsOf(
    path.join(REPO, 'labextension/src/service/model.ts'),
    'IJob'
  );
  const documented = Object.keys(jobSchema.properties).sort();

  test('the server sends exactly the documented fields, every one of them', () => {
    expect([...server.keys()].sort()).toEqual(documented);
    expect([...server.values()].every(optional => !optional)).toBe(true);
  });

  test('the labextension reads exactly the documented fields', () => {
    expect([...labextension.keys()].sort()).toEqual(documented);
    for (const required of jobSchema.required)
      expect([required, labextension.get(required)]).toEqual([required, false]);
  });
});
