/**
 * The profiles of the submit dialog grouped by GPU shape (a GPU type, a resource such as a MIG
 * slice) with what is free of each, so a person sees which kind of GPU has room.
 */
import type { IProfile } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';

/** Whole GPUs of any type: what `gpus: N` asks for. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

export interface IProfileGroup {
  /** `cpu`, or the type and resource: `NVIDIA-L4|nvidia.com/gpu`. */
  key: string;
  label: string;
  profiles: IProfile[];
}

/** Whether the profile names more than "N GPUs of any type". */
export function isShaped(profile: IProfile): boolean {
  return (
    profile.gpus > 0 &&
    (!!profile.gpu_type || profile.gpu_resource !== GPU_RESOURCE)
  );
}

/** `NVIDIA-L4`, `nvidia.com/mig-1g.10gb`, `NVIDIA-A100 · nvidia.com/mig-1g.10gb`, `Any GPU`. */
export function shapeName(
  profile: IProfile,
  trans: TranslationBundle = nbqueueBundle()
): string {
  if (profile.gpus === 0) return trans.__('CPU only');
  const resource =
    profile.gpu_resource === GPU_RESOURCE ? '' : profile.gpu_resource;
  if (profile.gpu_type && resource) return `${profile.gpu_type} · ${resource}`;
  return profile.gpu_type || resource || trans.__('Any GPU');
}

/**
 * The profiles by shape, in the order each shape first appears; null when none names a type or
 * another resource than nvidia.com/gpu (the dialog then lists them as they come).
 */
export function groupProfiles(
  profiles: IProfile[],
  trans: TranslationBundle = nbqueueBundle()
): IProfileGroup[] | null {
  if (!profiles.some(isShaped)) return null;
  const groups = new Map<string, IProfile[]>();
  for (const p of profiles) {
    const key = p.gpus === 0 ? 'cpu' : `${p.gpu_type ?? ''}|${p.gpu_resource}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups].map(([key, members]) => {
    const name = shapeName(members[0], trans);
    // Profiles of one shape may select other pools: the most any of them finds free.
    const known = members
      .map(p => p.gpu_free)
      .filter((n): n is number => n !== null && n !== undefined);
    const label =
      key === 'cpu' || !known.length
        ? name
        : trans.__('%1 — %2 free', name, Math.max(...known));
    return { key, label, profiles: members };
  });
}
