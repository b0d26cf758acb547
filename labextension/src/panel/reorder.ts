/**
 * Drag and drop in the Jobs panel: where a drop lands, and the reorder
 * request it means (docs/protocol.md, "Reorder rule").
 */
import type { IJob, ReorderTarget } from '../service/model';
import { compareJobs } from './rows';

/** Drop on the upper half of a row: before it; lower half: after it. */
export function dropPlacement(
  clientY: number,
  rect: { top: number; height: number }
): 'before' | 'after' {
  return clientY < rect.top + rect.height / 2 ? 'before' : 'after';
}

/**
 * The reorder request for dropping `draggedId` before or after `targetId`,
 * or null when the drop means nothing: only the owner's own queued jobs of
 * one queue can change places (docs/protocol.md, "Reorder rule").
 */
export function reorderIntent(
  jobs: Iterable<IJob>,
  user: string | null,
  draggedId: string,
  targetId: string,
  placement: 'before' | 'after'
): ReorderTarget | null {
  const all = [...jobs];
  const dragged = all.find(job => job.id === draggedId);
  const target = all.find(job => job.id === targetId);
  if (!dragged || !target || dragged.id === target.id) {
    return null;
  }
  const movable = (job: IJob) =>
    job.state === 'queued' &&
    job.queue === dragged.queue &&
    job.owner === dragged.owner &&
    (user === null || job.owner === user);
  if (!movable(dragged) || !movable(target)) {
    return null;
  }
  const order = all
    .filter(movable)
    .sort(compareJobs)
    .map(job => job.id);
  const without = order.filter(id => id !== draggedId);
  const at = without.indexOf(targetId) + (placement === 'after' ? 1 : 0);
  const next = [...without.slice(0, at), draggedId, ...without.slice(at)];
  if (next.every((id, i) => id === order[i])) {
    return null;
  }
  if (at === 0) {
    return { to: 'front' };
  }
  if (at === without.length) {
    return { to: 'back' };
  }
  return { before: without[at] };
}
