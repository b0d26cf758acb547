/**
 * Which chart a metric goes on: one chart per name prefix before the first
 * "/" ("train/loss" and "train/acc" share "train"), as TensorBoard groups its
 * scalars; a name without "/" is its own group.
 */
export function groupOf(name: string): string {
  const slash = name.indexOf('/');
  return slash > 0 ? name.slice(0, slash) : name;
}

/** Items grouped by `groupOf` their name, groups in order of first appearance. */
export function groupByPrefix<T extends { name: string }>(
  items: readonly T[],
  group: (name: string) => string = groupOf
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = group(item.name);
    const members = groups.get(key);
    if (members) {
      members.push(item);
    } else {
      groups.set(key, [item]);
    }
  }
  return groups;
}
