/**
 * Words for the captured environment in the submit dialog: a one-line summary
 * and the rows of its expandable details.
 */
import { nbqueueBundle, TranslationBundle } from '../translation';
import type { ICapturedEnvironment, ICapturedPackage } from './environment';

/** The texts' default: English. */
const ENGLISH = nbqueueBundle();

/** "Python 3.11 · 142 packages · git a1b2c3d, uncommitted changes". */
export function environmentSummary(
  env: ICapturedEnvironment,
  trans: TranslationBundle = ENGLISH
): string {
  const minor = env.python.version.split('.').slice(0, 2).join('.');
  const count = env.packages.length;
  const parts = [
    trans.__('Python %1', minor),
    trans._n('%1 package', '%1 packages', count)
  ];
  if (env.conda_env) {
    parts.push(trans.__('conda %1', env.conda_env));
  }
  const local = env.packages.filter(isLocal).length;
  if (local) {
    parts.push(trans.__('%1 local', local));
  }
  if (env.git) {
    const commit = env.git.commit
      ? env.git.commit.slice(0, 7)
      : trans.__('no commit');
    parts.push(
      env.git.dirty
        ? trans.__('git %1, uncommitted changes', commit)
        : trans.__('git %1', commit)
    );
  }
  return parts.join(' · ');
}

/** Installed from a path on this machine (editable or not): not restorable elsewhere. */
export function isLocal(p: ICapturedPackage): boolean {
  return !!p.editable || (!!p.url && p.url.startsWith('file:') && !p.vcs);
}

/** How a package appears in the details list. */
export function packageLabel(
  p: ICapturedPackage,
  trans: TranslationBundle = ENGLISH
): string {
  let where = '';
  if (p.editable) {
    where = p.url
      ? trans.__(' (editable, %1)', pathOf(p.url))
      : trans.__(' (editable)');
  } else if (p.vcs && p.url) {
    where = ` (${p.vcs} ${p.url}${p.commit ? `@${p.commit.slice(0, 7)}` : ''})`;
  } else if (p.url?.startsWith('file:')) {
    where = trans.__(' (local: %1)', pathOf(p.url));
  } else if (p.url) {
    where = ` (${p.url})`;
  }
  return `${p.name} ${p.version}${where}`;
}

/** The details as label/value rows, then the sorted package lines. */
export function environmentDetails(
  env: ICapturedEnvironment,
  trans: TranslationBundle = ENGLISH
): {
  rows: Array<[string, string]>;
  packages: string[];
} {
  const rows: Array<[string, string]> = [
    [trans.__('Kernel'), env.kernel],
    [
      trans.__('Python'),
      `${env.python.version}${env.python.implementation ? ` (${env.python.implementation})` : ''} ${env.python.executable}`
    ]
  ];
  if (env.python.platform) {
    rows.push([
      trans.__('Platform'),
      [env.python.platform, env.python.machine].filter(Boolean).join(' ')
    ]);
  }
  if (env.conda_env) {
    rows.push([trans.__('Conda environment'), env.conda_env]);
  }
  rows.push([trans.__('Working directory'), env.cwd]);
  if (env.git) {
    const g = env.git;
    const state =
      g.dirty === null
        ? trans.__('state unknown')
        : g.dirty
          ? trans.__('uncommitted changes')
          : trans.__('clean');
    rows.push([
      trans.__('Git'),
      [
        g.commit ? g.commit.slice(0, 12) : trans.__('no commit yet'),
        g.branch ? trans.__('on %1', g.branch) : trans.__('detached'),
        state
      ].join(', ')
    ]);
    rows.push([
      trans.__('Repository'),
      g.remote ? `${g.root} (${g.remote})` : g.root
    ]);
  }
  const packages = [...env.packages]
    .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
    .map(p => packageLabel(p, trans));
  return { rows, packages };
}

function pathOf(url: string): string {
  return url.startsWith('file://')
    ? decodeURI(url.slice('file://'.length))
    : url;
}
