/**
 * Reorder: a person moves one of their own queued jobs. Pure, like the scheduler.
 *
 * The job trades places only with its owner's other jobs that compete with it in the same way:
 * same queue, same priority class, same hold state. The position keys those jobs hold are
 * dealt out again in the new order, so the set of keys the owner has at that priority is
 * unchanged and every other person's job keeps its exact place in the admission order.
 * (Trading keys across priorities or with held jobs would change which key the owner presents
 * at a level, and so move someone else's job.)
 */

export interface Placed {
  id: string;
  owner: string;
  queue: string;
  priorityRank: number;
  held: boolean;
  positionKey: number;
}

export type ReorderTarget = { to: 'front' | 'back' } | { before: string };

/** The jobs `job` may trade places with (itself included), from all queued jobs. */
export function reorderGroup<T extends Placed>(all: T[], job: Placed): T[] {
  return all.filter(
    j =>
      j.owner === job.owner &&
      j.queue === job.queue &&
      j.priorityRank === job.priorityRank &&
      j.held === job.held
  );
}

/**
 * New position keys, by job id, for the jobs of `group` whose key changes; null when the
 * `before` job is not in the group.
 */
export function reorderKeys(
  group: Placed[],
  id: string,
  target: ReorderTarget
): Map<string, number> | null {
  const sorted = [...group].sort(
    (a, b) =>
      a.positionKey - b.positionKey || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
  const keys = sorted.map(j => j.positionKey);
  const moving = sorted.find(j => j.id === id);
  if (!moving) return null;
  const others = sorted.filter(j => j.id !== id);
  let order: Placed[];
  if ('before' in target) {
    const at = others.findIndex(j => j.id === target.before);
    if (at < 0) return null;
    order = [...others.slice(0, at), moving, ...others.slice(at)];
  } else if (target.to === 'front') order = [moving, ...others];
  else order = [...others, moving];
  const changed = new Map<string, number>();
  order.forEach((j, i) => {
    if (j.positionKey !== keys[i]) changed.set(j.id, keys[i]);
  });
  return changed;
}
