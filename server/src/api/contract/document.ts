/** The OpenAPI 3.1 document, generated from the contract's zod schemas. */
import { z } from 'zod/v4';
import type { Config } from '../../config/schema';
import { parseConfig } from '../../config/load';
import { VERSION } from '../../version';
import { FileEntry, StoredFiles } from './files';
import { apiContract, operationsOf } from './index';
import { JOB_LINKS } from './jobs';
import { nbformatComponents } from './nbformat';
import { documentation } from './operation';
import {
  CapturedEnvironment,
  ErrorBody,
  Event,
  EventPage,
  FinalState,
  Metric,
  MetricPage,
  Profile,
  PythonNotebook,
  Queue,
  Waiting,
  WaitingReason
} from './schemas';

type Json = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** Where zod cannot say it, the contract did (operation.ts, `documented`). */
function override({
  zodSchema,
  jsonSchema
}: {
  zodSchema: z.core.$ZodType;
  jsonSchema: Json;
}): void {
  let schema: z.core.$ZodType | undefined = zodSchema;
  let how = undefined;
  while (schema && !(how = documentation(schema as z.ZodType)))
    schema = schema._zod.parent;
  if (!how) return;
  if (how.replace) {
    for (const key of Object.keys(jsonSchema))
      if (key !== 'description') delete jsonSchema[key];
    Object.assign(jsonSchema, how.replace);
  }
  if (how.extra) Object.assign(jsonSchema, how.extra);
}

/** The REST API as OpenAPI 3.1, with the sidecar's own profiles, queues and limits filled in. */
export function openApiDocument(config: Config = parseConfig({})): Json {
  const contract = apiContract(config);
  const registry = z.registry<{ id: string }>();
  const named: Record<string, z.ZodType> = {
    Error: ErrorBody,
    Info: contract.info.getInfo.ok[200].schema,
    Profile,
    Queue,
    CapturedEnvironment,
    PythonNotebook,
    JobSubmit: contract.jobs.submitJob.body,
    Job: contract.jobs.Job,
    FinalState,
    Waiting,
    WaitingReason,
    JobPage: contract.jobs.JobPage,
    PipelineSubmit: contract.pipelines.submitPipeline.body,
    Pipeline: contract.pipelines.Pipeline,
    Event,
    EventPage,
    Metric,
    MetricPage,
    FileEntry,
    StoredFiles,
    Schedule: contract.schedules.Schedule,
    UserUsage: contract.retention.UserUsage,
    PrunedJob: contract.retention.PrunedJob,
    NotificationsView: contract.notifications.NotificationsView
  };
  for (const [id, schema] of Object.entries(named))
    registry.add(schema, { id });
  const operations = operationsOf(contract);
  // Everything else an operation names is converted with them, then placed inline.
  let anonymous = 0;
  const idOf = (schema: z.ZodType): string => {
    const known = registry.get(schema)?.id;
    if (known) return known;
    const id = `_${anonymous++}`;
    registry.add(schema, { id });
    return id;
  };
  const parts = operations.map(op => ({
    op,
    params: op.params && idOf(op.params),
    query: op.query && idOf(op.query),
    body: op.body && idOf(op.body),
    ok: Object.fromEntries(
      Object.entries(op.ok).map(([status, a]) => [
        status,
        a.schema && idOf(a.schema)
      ])
    )
  }));
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    uri: id => `#/components/schemas/${id}`,
    override
  }) as { schemas: Record<string, Json> };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  // A schema without a name is written where it is used, also inside another.
  const inline = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(inline);
    if (!node || typeof node !== 'object') return node;
    const { $ref, ...rest } = node as Json;
    const anonymous =
      typeof $ref === 'string' && $ref.startsWith('#/components/schemas/_')
        ? schemas[$ref.slice('#/components/schemas/'.length)]
        : undefined;
    return Object.fromEntries(
      Object.entries(
        anonymous ? { ...anonymous, ...rest } : (node as Json)
      ).map(([k, v]) => [k, inline(v)])
    );
  };
  for (const id of Object.keys(schemas))
    schemas[id] = inline(schemas[id]) as Json;
  const use = (id: string): Json =>
    id.startsWith('_') ? schemas[id] : ref(id);

  const paths: Record<string, Record<string, Json>> = {};
  for (const { op, params, query, body, ok } of parts) {
    const parameters: Json[] = [];
    for (const [where, id] of [
      ['path', params],
      ['query', query]
    ] as const) {
      if (!id) continue;
      const object = schemas[id] as {
        properties: Record<string, Json>;
        required?: string[];
      };
      for (const [name, schema] of Object.entries(object.properties)) {
        const { description, ...rest } = schema;
        parameters.push({
          name,
          in: where,
          ...(where === 'path' || object.required?.includes(name)
            ? { required: true }
            : {}),
          ...(rest.type === 'array' ? { style: 'form', explode: false } : {}),
          schema: rest,
          ...(description ? { description } : {})
        });
      }
    }
    const responses: Record<string, Json> = {};
    for (const [status, answer] of Object.entries(op.ok)) {
      const id = ok[status];
      const media = answer.media;
      responses[status] = {
        description: answer.description ?? 'OK',
        ...(id
          ? { content: { 'application/json': { schema: use(id) } } }
          : media
            ? {
                content: Object.fromEntries(
                  [media].flat().map(type => [
                    type,
                    {
                      schema: type.startsWith('text/')
                        ? { type: 'string' }
                        : { type: 'string', format: 'binary' }
                    }
                  ])
                )
              }
            : {}),
        ...(answer.links
          ? {
              links: Object.fromEntries(
                JOB_LINKS.map(operationId => [
                  operationId,
                  { operationId, parameters: { id: '$response.body#/id' } }
                ])
              )
            }
          : {})
      };
    }
    for (const status of op.errors)
      responses[status] = {
        description: 'An error a person can act on',
        content: { 'application/json': { schema: ref('Error') } }
      };
    paths[op.path] ??= {};
    paths[op.path][op.method] = {
      ...(op.operationId ? { operationId: op.operationId } : {}),
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(body
        ? {
            requestBody: {
              required: !op.bodyOptional,
              content: { 'application/json': { schema: use(body) } }
            }
          }
        : op.upload
          ? {
              requestBody: {
                required: true,
                description: op.upload.description,
                content: Object.fromEntries(
                  [op.upload.media].flat().map(media => [
                    media,
                    {
                      schema: {
                        type: 'string',
                        format: 'binary',
                        ...(op.upload?.maxBytes
                          ? { maxLength: op.upload.maxBytes }
                          : {})
                      }
                    }
                  ])
                )
              }
            }
          : {}),
      responses
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'nbqueue sidecar',
      version: VERSION,
      description:
        "Queue notebooks as jobs and stream their outputs back. Live events: socket.io on the same origin (see docs/protocol.md). Profile, queue and priority names are this sidecar's own configuration. A method a path does not list answers 405 with Allow."
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ...Object.fromEntries(
          Object.entries(schemas).filter(([id]) => !id.startsWith('_'))
        ),
        ...nbformatComponents()
      }
    },
    security: [{ bearer: [] }],
    paths
  };
}

/**
 * The document the TypeScript types are generated from: the same, except that names from
 * the configuration (`x-configured`: profiles, queues, priority classes) are any string, as
 * a client talks to sidecars configured in different ways.
 */
export function typesDocument(document: Json): Json {
  // nbformat keeps shared pieces inside one definition ("misc"): each becomes a schema.
  const misc = '#/components/schemas/nbformat.misc/';
  const generic = JSON.parse(
    JSON.stringify(document).replaceAll(
      `"${misc}`,
      '"#/components/schemas/nbformat.misc.'
    )
  ) as Json & { components: { schemas: Record<string, Json> } };
  const schemas = generic.components.schemas;
  for (const [name, schema] of Object.entries(schemas['nbformat.misc'] ?? {}))
    if (schema && typeof schema === 'object')
      schemas[`nbformat.misc.${name}`] = schema as Json;
  delete schemas['nbformat.misc'];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const obj = node as Json;
    // A value whose shape depends on the configuration (notifications' email and webhook):
    // the types take the shape it has on any sidecar.
    if ('x-types' in obj) {
      const shape = obj['x-types'] as Json;
      for (const k of Object.keys(obj)) delete obj[k];
      Object.assign(obj, shape);
    }
    if ('x-configured' in obj) {
      delete obj.enum;
      delete obj.anyOf;
      delete obj['x-configured'];
    }
    Object.values(obj).forEach(walk);
  };
  walk(generic);
  return generic;
}
