import * as fs from 'fs';
import * as path from 'path';
import { badRequest } from '../errors';
import type { JobSpec } from './types';

/** Where a job of one user may start, when jobs run as their owners' OS accounts. */
export interface Confinement {
  /** The owner's OS account and its home. */
  account: string;
  home: string;
  /** Interpreters anyone may name (backend.local.python, backend.local.allowed_pythons). */
  pythons: string[];
  /** Whether kernel.python is used at all (not in restore mode). */
  checkPython: boolean;
}

/** The path with its links resolved as far as it exists (a link in the home may point out). */
function resolved(p: string): string {
  let head = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...rest);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.resolve(p);
      rest.unshift(path.basename(head));
      head = parent;
    }
  }
}

function inside(dir: string, p: string): boolean {
  const rel = path.relative(resolved(dir), resolved(p));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Several users, each job as its owner's account: `cwd` and `kernel.python` from the request are
 * honoured only inside the owner's home (an interpreter also when the operator allows it for
 * everyone); anything else is refused rather than quietly replaced.
 */
export function checkConfinement(spec: JobSpec, c: Confinement): void {
  if (spec.cwd && !(path.isAbsolute(spec.cwd) && inside(c.home, spec.cwd))) {
    throw badRequest(
      'outside_home',
      `"cwd" ${JSON.stringify(spec.cwd)} is not inside your home (${c.home}): jobs run as your OS account ${c.account} and start only in your home. Leave "cwd" out to start in ${c.home}.`
    );
  }
  const python = spec.kernel.python;
  if (!c.checkPython || !python) return;
  const allowed =
    c.pythons.includes(python) ||
    (path.isAbsolute(python) &&
      (inside(c.home, python) ||
        c.pythons.some(
          p => path.isAbsolute(p) && resolved(p) === resolved(python)
        )));
  if (!allowed) {
    throw badRequest(
      'outside_home',
      `"kernel.python" ${JSON.stringify(python)} is not inside your home (${c.home}) nor one of the interpreters this sidecar allows (${c.pythons.join(', ')}); use a kernel whose Python is in your home, or ask the operator to add it to backend.local.allowed_pythons.`
    );
  }
}
