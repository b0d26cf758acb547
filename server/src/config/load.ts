import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { ZodError } from 'zod';
import { DEFAULT_PROFILES } from './defaults';
import { Config, configSchema } from './schema';

export class ConfigError extends Error {}

/** Turns zod's issues into one line per wrong field, naming the field. */
function describe(err: ZodError, source: string): string {
  const lines = err.issues.map(issue => {
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    return `  ${field}: ${issue.message}`;
  });
  return `Invalid nbqueue configuration in ${source}:\n${lines.join('\n')}`;
}

/** Validates a configuration object and fills in defaults; throws ConfigError naming the field. */
export function parseConfig(input: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(describe(result.error, source));
  }
  const parsed = result.data;
  const profiles = parsed.profiles ?? DEFAULT_PROFILES;
  const queues =
    parsed.queues ??
    profiles.map(p => ({ name: p.name, profile: p.name, description: '' }));
  const problems: string[] = [];
  const seen = new Set<string>();
  profiles.forEach((p, i) => {
    if (seen.has(p.name))
      problems.push(`  profiles.${i}.name: duplicate profile "${p.name}"`);
    seen.add(p.name);
  });
  const queueNames = new Set<string>();
  queues.forEach((q, i) => {
    if (queueNames.has(q.name))
      problems.push(`  queues.${i}.name: duplicate queue "${q.name}"`);
    queueNames.add(q.name);
    if (!seen.has(q.profile)) {
      problems.push(
        `  queues.${i}.profile: unknown profile "${q.profile}"; define it under profiles (known: ${[...seen].join(', ')})`
      );
    }
  });
  if (!parsed.priorities.includes(parsed.default_priority)) {
    problems.push(
      `  default_priority: "${parsed.default_priority}" is not one of priorities (${parsed.priorities.join(', ')})`
    );
  }
  // Shared working storage is mounted per user: a volume under files.working_dir must name
  // the user's own folder, or every job would see every user's files.
  const workingDir = parsed.files.working_dir;
  if (parsed.backend.type === 'kubernetes' && workingDir) {
    parsed.backend.kubernetes.volumes.forEach((v, i) => {
      const holds =
        workingDir === v.mount_path ||
        workingDir.startsWith(v.mount_path.replace(/\/?$/, '/'));
      if (holds && !(v.sub_path ?? '').includes('{username}'))
        problems.push(
          `  backend.kubernetes.volumes.${i}.sub_path: the volume at ${v.mount_path} holds files.working_dir (${workingDir}), so it must be mounted per user: set sub_path to the users' folder with {username}, e.g. "home/{username}"`
        );
    });
  }
  if (problems.length) {
    throw new ConfigError(
      `Invalid nbqueue configuration in ${source}:\n${problems.join('\n')}`
    );
  }
  return { ...parsed, profiles, queues };
}

/** Reads a YAML or JSON file (by extension; YAML is a superset of JSON anyway). */
export function loadConfigFile(file: string | undefined): Config {
  if (!file) return parseConfig({}, 'built-in defaults');
  const full = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(full, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `Cannot read configuration file ${full}: ${(err as Error).message}`
    );
  }
  let data: unknown;
  try {
    data = full.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(
      `Configuration file ${full} is not valid ${full.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`
    );
  }
  return parseConfig(data, full);
}
