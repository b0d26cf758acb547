/**
 * Words for the captured environment in the submit dialog: a one-line summary
 * and the rows of its expandable details.
 */
import type { ICapturedEnvironment, ICapturedPackage } from './environment';

/** "Python 3.11 · 142 packages · git a1b2c3d, uncommitted changes". */
export function environmentSummary(env: ICapturedEnvironment): string {
  const minor = env.python.version.split('.').slice(0, 2).join('.');
  const count = env.packages.length;
  const parts = [
    `Python ${minor}`,
    `${count} ${count === 1 ? 'package' : 'packages'}`
  ];
  if (env.conda_env) {
    parts.push(`conda ${env.conda_env}`);
  }
  const local = env.packages.filter(isLocal).length;
  if (local) {
    parts.push(`${local} local`);
  }
  if (env.git) {
    const commit = env.git.commit ? env.git.commit.slice(0, 7) : 'no commit';
    parts.push(
      env.git.dirty ? `git ${commit}, uncommitted changes` : `git ${commit}`
    );
  }
  return parts.join(' · ');
}

/** Installed from a path on this machine (editable or not): not restorable elsewhere. */
export function isLocal(p: ICapturedPackage): boolean {
  return !!p.editable || (!!p.url && p.url.startsWith('file:') && !p.vcs);
}

/** How a package appears in the details list. */
export function packageLabel(p: ICapturedPackage): string {
  let where = '';
  if (p.editable) {
    where = ` (editable${p.url ? `, ${pathOf(p.url)}` : ''})`;
  } else if (p.vcs && p.url) {
    where = ` (${p.vcs} ${p.url}${p.commit ? `@${p.commit.slice(0, 7)}` : ''})`;
  } else if (p.url?.startsWith('file:')) {
    where = ` (local: ${pathOf(p.url)})`;
  } else if (p.url) {
    where = ` (${p.url})`;
  }
  return `${p.name} ${p.version}${where}`;
}

/** The details as label/value rows, then the sorted package lines. */
export function environmentDetails(env: ICapturedEnvironment): {
  rows: Array<[string, string]>;
  packages: string[];
} {
  const rows: Array<[string, string]> = [
    ['Kernel', env.kernel],
    [
      'Python',
      `${env.python.version}${env.python.implementation ? ` (${env.python.implementation})` : ''} ${env.python.executable}`
    ]
  ];
  if (env.python.platform) {
    rows.push([
      'Platform',
      [env.python.platform, env.python.machine].filter(Boolean).join(' ')
    ]);
  }
  if (env.conda_env) {
    rows.push(['Conda environment', env.conda_env]);
  }
  rows.push(['Working directory', env.cwd]);
  if (env.git) {
    const g = env.git;
    const state =
      g.dirty === null
        ? 'state unknown'
        : g.dirty
          ? 'uncommitted changes'
          : 'clean';
    rows.push([
      'Git',
      [
        g.commit ? g.commit.slice(0, 12) : 'no commit yet',
        g.branch ? `on ${g.branch}` : 'detached',
        state
      ].join(', ')
    ]);
    rows.push(['Repository', g.remote ? `${g.root} (${g.remote})` : g.root]);
  }
  const packages = [...env.packages]
    .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
    .map(packageLabel);
  return { rows, packages };
}

function pathOf(url: string): string {
  return url.startsWith('file://')
    ? decodeURI(url.slice('file://'.length))
    : url;
}
