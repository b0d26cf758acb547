/**
 * A pipeline's definition, checked: unique step names, `after` defaulted (absent: the previous
 * step; [] none), every name in `after` known, no cycle. Pure: no I/O.
 */
import { badRequest } from '../errors';

export interface StepDefinition {
  name: string;
  /** As given: absent means "the previous step in the list". */
  after?: string[] | null;
}

/** The steps with `after` filled in, in the order given. */
export function resolveAfter<S extends StepDefinition>(
  steps: S[]
): Array<S & { after: string[] }> {
  return steps.map((step, i) => ({
    ...step,
    after: step.after ?? (i > 0 ? [steps[i - 1].name] : [])
  }));
}

/** Throws 400 invalid_pipeline naming the steps at fault; the steps with `after` resolved. */
export function checkDefinition<S extends StepDefinition>(
  steps: S[]
): Array<S & { after: string[] }> {
  const seen = new Set<string>();
  for (const step of steps) {
    if (seen.has(step.name))
      throw invalid(
        `Two steps are named '${step.name}'; step names must be unique in a pipeline.`
      );
    seen.add(step.name);
  }
  const resolved = resolveAfter(steps);
  for (const step of resolved) {
    for (const name of step.after) {
      if (!seen.has(name))
        throw invalid(
          `Step '${step.name}' waits for '${name}', which is not a step of this pipeline; the steps are ${[...seen].map(s => `'${s}'`).join(', ')}.`
        );
      if (name === step.name)
        throw invalid(`Step '${step.name}' waits for itself.`);
    }
    if (new Set(step.after).size !== step.after.length)
      throw invalid(`Step '${step.name}' names a step twice in "after".`);
  }
  const cycle = findCycle(resolved);
  if (cycle)
    throw invalid(
      `The steps wait for each other in a circle: ${cycle.map(s => `'${s}'`).join(' -> ')}; no step of it could ever start.`
    );
  return resolved;
}

/** A cycle as the step names along it (first repeated at the end), or null. */
export function findCycle(
  steps: Array<{ name: string; after: string[] }>
): string[] | null {
  const after = new Map(steps.map(s => [s.name, s.after]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'open')
      return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    path.push(name);
    for (const dep of after.get(name) ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const step of steps) {
    const found = visit(step.name);
    // Walked along "waits for": reversed, it reads in the order the steps would run.
    if (found) return found.reverse();
  }
  return null;
}

/** Every step that waits, directly or not, for `name`. */
export function descendants(
  steps: Array<{ name: string; after: string[] }>,
  name: string
): Set<string> {
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const step of steps) {
      if (found.has(step.name)) continue;
      if (step.after.some(a => a === name || found.has(a))) {
        found.add(step.name);
        grew = true;
      }
    }
  }
  return found;
}

const invalid = (message: string) => badRequest('invalid_pipeline', message);
