/**
 * The run-duration history the ETA estimator draws from, kept per profile and per user and
 * updated as jobs end, so a request never scans the jobs table: each profile is read once
 * (its newest `window` succeeded runs), then every succeeded job adds its duration.
 */

/** One succeeded run: who ran it and how long it ran (seconds, start to finish). */
export interface Run {
  owner: string;
  seconds: number;
}

/** Where a profile's history comes from the first time it is needed: newest first. */
export type HistorySource = (profile: string, limit: number) => Run[];

/** What the estimator reads: ascending durations, the profile's and (with enough) a user's. */
export interface HistoryView {
  /** The profile's recent durations, ascending. */
  all: readonly number[];
  /** A user's recent durations on the profile, ascending; undefined below the minimum. */
  user(owner: string): readonly number[] | undefined;
}

export interface HistoryOptions {
  /** How many of a profile's newest runs are kept (and a user's, within them). */
  window: number;
  /** A user's own durations are used from this many runs on; below it, the profile's. */
  minUserJobs: number;
}

/** A bounded list of durations, oldest first, with its ascending copy made when asked for. */
class Recent {
  private readonly runs: number[] = [];
  private sorted: number[] | undefined;

  constructor(private readonly window: number) {}

  add(seconds: number): void {
    this.runs.push(seconds);
    if (this.runs.length > this.window) this.runs.shift();
    this.sorted = undefined;
  }

  /** The oldest run leaves (it left the profile's window). */
  dropOldest(): void {
    this.runs.shift();
    this.sorted = undefined;
  }

  get length(): number {
    return this.runs.length;
  }

  ascending(): number[] {
    this.sorted ??= [...this.runs].sort((a, b) => a - b);
    return this.sorted;
  }
}

interface ProfileHistory {
  all: Recent;
  /** The same runs by owner, so a user's history is the part of the window that is theirs. */
  byOwner: Map<string, Recent>;
  owners: string[];
}

export class DurationHistory {
  private readonly profiles = new Map<string, ProfileHistory>();

  constructor(
    private readonly source: HistorySource,
    private readonly options: HistoryOptions
  ) {}

  /** A job succeeded: its duration joins its profile's history (if that is loaded yet). */
  record(profile: string, run: Run): void {
    const history = this.profiles.get(profile);
    // Not loaded yet: the first read takes it from the store, this run included.
    if (history) this.add(history, run);
  }

  view(profile: string): HistoryView {
    const history = this.load(profile);
    const min = this.options.minUserJobs;
    return {
      all: history.all.ascending(),
      user: owner => {
        const own = history.byOwner.get(owner);
        return own && own.length >= min ? own.ascending() : undefined;
      }
    };
  }

  private load(profile: string): ProfileHistory {
    let history = this.profiles.get(profile);
    if (history) return history;
    history = {
      all: new Recent(this.options.window),
      byOwner: new Map(),
      owners: []
    };
    const runs = this.source(profile, this.options.window);
    for (let i = runs.length - 1; i >= 0; i--) this.add(history, runs[i]);
    this.profiles.set(profile, history);
    return history;
  }

  private add(history: ProfileHistory, run: Run): void {
    if (!Number.isFinite(run.seconds) || run.seconds < 0) return;
    history.all.add(run.seconds);
    // Which owner each run of the window belongs to, so a run leaving the window leaves its
    // owner's list too: a user's history never reaches past the profile's.
    history.owners.push(run.owner);
    let own = history.byOwner.get(run.owner);
    if (!own) {
      own = new Recent(this.options.window);
      history.byOwner.set(run.owner, own);
    }
    own.add(run.seconds);
    if (history.owners.length > this.options.window) {
      const gone = history.owners.shift() as string;
      const theirs = history.byOwner.get(gone);
      if (theirs) {
        theirs.dropOldest();
        if (!theirs.length) history.byOwner.delete(gone);
      }
    }
  }
}
