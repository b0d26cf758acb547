import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import type { Config } from '../config/schema';
import { ConfigError } from '../config/load';

/** An OS account a local runner runs as (several users: the job owner's). */
export interface OsAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * The system user name for an nbqueue user, as The Littlest JupyterHub derives it
 * (tljh/normalize.py `generate_system_username`, applied to the whole name with its prefix):
 * under 26 characters as it is, spaces as dashes; longer ones cut at 26 characters plus "-" and
 * five hex digits of the SHA-256 of the whole name, so names stay under 32 characters and unique.
 */
export function systemUsername(template: string, username: string): string {
  const name = template.split('{username}').join(username);
  if (name.length < 26) return name.replace(/ /g, '-');
  const hash = createHash('sha256').update(name, 'utf8').digest('hex');
  return `${name.slice(0, 26)}-${hash.slice(0, 5)}`;
}

/** Characters no passwd entry has (and that would make `getent` read an option). */
const NOT_A_NAME = /^-|[/:\s\0]/;

/**
 * The account's passwd entry (through NSS, so LDAP and sssd accounts count too), or undefined
 * when there is none.
 */
export function lookupAccount(name: string): OsAccount | undefined {
  if (!name || NOT_A_NAME.test(name)) return undefined;
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10000
    });
  } catch {
    return undefined;
  }
  const [entry, , uid, gid, , home] = line.trim().split('\n')[0].split(':');
  if (entry !== name || !/^\d+$/.test(uid) || !/^\d+$/.test(gid) || !home)
    return undefined;
  return { name, uid: Number(uid), gid: Number(gid), home };
}

/** Several nbqueue users share the sidecar: hub mode, or more tokens in auth.users. */
export function severalUsers(config: Config): boolean {
  return config.auth.mode === 'hub' || config.auth.users.length > 0;
}

/**
 * Whether the local backend may start as configured: with several users, their jobs must run as
 * their own OS accounts (backend.local.os_user), or the operator must say that one account for
 * all is meant (backend.local.single_os_user). Throws ConfigError saying why and what to set.
 */
export function checkLocalAccounts(
  config: Config,
  uid: number | undefined = process.getuid?.()
): void {
  if (config.backend.type !== 'local') return;
  const local = config.backend.local;
  if (local.os_user && local.single_os_user) {
    throw new ConfigError(
      'Invalid nbqueue configuration: backend.local.os_user and backend.local.single_os_user both set; choose one.'
    );
  }
  if (local.os_user && uid !== 0) {
    throw new ConfigError(
      `nbqueue: not starting: backend.local.os_user runs each job as its owner's OS account ("${local.os_user}"), which needs the sidecar to run as root (it switches to the account for each runner, as JupyterHub's LocalProcessSpawner does); this sidecar runs as uid ${uid}. Start it as root (e.g. as a JupyterHub service of a hub that runs as root), or remove os_user.`
    );
  }
  if (!severalUsers(config) || local.os_user || local.single_os_user) return;
  const who =
    config.auth.mode === 'hub'
      ? 'auth.mode is hub'
      : `auth.users names ${config.auth.users.length} more user(s)`;
  throw new ConfigError(
    `nbqueue: not starting: ${who}, so several people share this sidecar, but the local backend would run all their jobs as the sidecar's own OS account, where any job can read the store (every user's notebooks and results), every other job's files and its runner's token. Set backend.local.os_user to the OS account each user's jobs run as, e.g. "jupyter-{username}" (The Littlest JupyterHub) or "{username}" (JupyterHub's LocalProcessSpawner); the sidecar must then run as root. Or, only if these users trust one another, set backend.local.single_os_user: true.`
  );
}
