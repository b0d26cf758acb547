/**
 * A job's name when the person gave none: the notebook's file name and the time, in the local
 * time of whoever names it (`train.ipynb 2026-11-23 14:05`); `notebook` without a path.
 */
export function defaultJobName(
  path: string | null | undefined,
  now: Date
): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}:${pad(now.getMinutes())}`;
  const base = path ? path.split('/').filter(Boolean).pop() : undefined;
  return `${base || 'notebook'} ${date} ${time}`;
}
