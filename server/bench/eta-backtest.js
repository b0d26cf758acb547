#!/usr/bin/env node
/**
 * `make bench`: the ETA backtest. A generated history of 1,000 jobs (8 users, 3 profiles with
 * their capacities, lognormal run times that differ by user, submits in bursts) is replayed
 * through the real admission order (server/src/queue/scheduler) in simulated time. As each job
 * arrives, the estimator (server/src/queue/estimate) predicts its start from what is known
 * then: the runs finished so far, the running jobs' elapsed times and the queue. Reports how
 * often the real start fell inside the predicted range, and the median absolute error of the
 * point estimate against the naive estimate used before (server/src/queue/eta.ts,
 * estimateStarts), on the same run.
 */
const scheduler = require('../dist/queue/scheduler');
const admissionOrder = process.env.BENCH_FIFO
  ? jobs => [...jobs].sort((a, b) => a.positionKey - b.positionKey)
  : scheduler.admissionOrder;
const { estimateStarts } = require('../dist/queue/eta');
const { DurationHistory } = require('../dist/queue/estimate/history');
const {
  estimatePool,
  RANGE_LOW,
  RANGE_HIGH
} = require('../dist/queue/estimate/pool');
const { seededRandom } = require('../dist/queue/estimate/quantiles');
const { StartCalibration } = require('../dist/queue/estimate/calibration');

const COVERAGE = Number(process.env.BENCH_COVERAGE ?? 0.9);

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const random = seededRandom(Number(process.env.BENCH_SEED ?? 7));
const PROFILES = [
  { name: 'cpu', capacity: 6, median: 600, share: 0.7 },
  { name: 'gpu-1', capacity: 4, median: 1200, share: 0.23 },
  { name: 'gpu-8', capacity: 2, median: 2400, share: 0.05 }
];
const USERS = Array.from({ length: 8 }, (_, i) => ({
  name: `user${i}`,
  // Some users run short experiments, some long trainings: 0.4x to 2.5x the profile's median.
  factor: Math.exp((random() - 0.4) * 1.8),
  sigma: 0.4 + random() * 0.5
}));

function normal() {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function pick(items, weight) {
  let r = random() * items.reduce((a, x) => a + weight(x), 0);
  for (const x of items) if ((r -= weight(x)) < 0) return x;
  return items[items.length - 1];
}

/** Submits in bursts: a user sends 1 to 12 jobs to one profile within a minute. */
function generate() {
  const jobs = [];
  let t = 0;
  while (jobs.length < JOBS) {
    // Bursts about every 13 minutes keep the pools near 90 % busy (queues form and drain).
    t += -Math.log(1 - random()) * Number(process.env.BENCH_GAP ?? 600);
    const user = USERS[Math.floor(random() * USERS.length)];
    const profile = pick(PROFILES, p => p.share);
    const n = 1 + Math.floor(random() * 12);
    for (let i = 0; i < n && jobs.length < JOBS; i++) {
      const seconds = Math.max(
        5,
        profile.median * user.factor * Math.exp(user.sigma * normal())
      );
      jobs.push({
        id: `j${jobs.length}`,
        owner: user.name,
        pool: profile.name,
        queue: profile.name,
        priorityRank: 1,
        positionKey: jobs.length,
        arrival: t + random() * 60,
        seconds
      });
    }
  }
  return jobs.sort((a, b) => a.arrival - b.arrival);
}

function main() {
  const jobs = generate();
  const runs = new Map(PROFILES.map(p => [p.name, []]));
  const history = new DurationHistory(
    profile => [...runs.get(profile)].reverse(),
    { window: 200, minUserJobs: 20 }
  );
  const calibration = new StartCalibration({
    window: 200,
    minScores: 20,
    coverage: COVERAGE
  });
  const queued = [];
  const running = [];
  const predictions = new Map();
  let now = 0;
  let next = 0;

  const runningByUser = () => {
    const out = {};
    for (const j of running) out[j.owner] = (out[j.owner] ?? 0) + 1;
    return out;
  };
  const admit = () => {
    for (const p of PROFILES) {
      let free = p.capacity - running.filter(j => j.pool === p.name).length;
      if (free <= 0) continue;
      const order = admissionOrder(
        queued.filter(j => j.pool === p.name),
        runningByUser()
      );
      for (const j of order.slice(0, free)) {
        queued.splice(queued.indexOf(j), 1);
        j.start = now;
        const predicted = predictions.get(j.id);
        if (predicted?.raw)
          calibration.observe(j.pool, predicted.raw, now - predicted.at);
        running.push(j);
        free -= 1;
      }
    }
  };
  const predict = job => {
    const p = PROFILES.find(x => x.name === job.pool);
    const inPool = queued.filter(j => j.pool === p.name);
    const order = admissionOrder(inPool, runningByUser());
    const active = running.filter(j => j.pool === p.name);
    const estimate = estimatePool({
      profile: p.name,
      capacity: p.capacity,
      running: active.map(j => ({
        id: j.id,
        owner: j.owner,
        elapsed: now - j.start
      })),
      queued: order,
      history: history.view(p.name)
    }).get(job.id);
    const naive = estimateStarts(p.name, {
      capacity: p.capacity,
      runningElapsed: active.map(j => now - j.start),
      order: order.map(j => j.id),
      // The naive estimate's own history: the newest 50 runs.
      history: runs
        .get(p.name)
        .slice(-50)
        .map(r => r.seconds)
    }).get(job.id);
    const raw = estimate.start;
    if (raw) estimate.start = calibration.adjust(p.name, raw);
    predictions.set(job.id, {
      at: now,
      raw,
      estimate,
      naive,
      known: runs.get(p.name).length
    });
  };

  while (next < jobs.length || queued.length || running.length) {
    const nextEnd = running.reduce(
      (m, j) => Math.min(m, j.start + j.seconds),
      Infinity
    );
    const nextArrival = next < jobs.length ? jobs[next].arrival : Infinity;
    if (nextEnd <= nextArrival) {
      now = nextEnd;
      const done = running.find(j => j.start + j.seconds === nextEnd);
      running.splice(running.indexOf(done), 1);
      runs.get(done.pool).push({ owner: done.owner, seconds: done.seconds });
      history.record(done.pool, { owner: done.owner, seconds: done.seconds });
      admit();
    } else {
      now = nextArrival;
      const job = jobs[next++];
      queued.push(job);
      admit();
      // Predicted as the job arrives (after the scheduler's pass: a free slot means now).
      if (job.start === undefined) predict(job);
      else predictions.set(job.id, { at: now, immediate: true });
    }
  }

  const waited = [];
  let unknown = 0;
  for (const j of jobs) {
    const p = predictions.get(j.id);
    if (p.immediate) continue;
    if (!p.estimate?.start || p.naive?.seconds == null) {
      unknown += 1;
      continue;
    }
    waited.push({ real: j.start - p.at, pool: j.pool, ...p });
  }
  const within = w =>
    w.real >= w.estimate.start.low - 0.5 &&
    w.real <= w.estimate.start.high + 0.5;
  const later = waited.filter(w => w.real > w.estimate.start.high + 0.5).length;
  const warm = waited.filter(w => w.known >= 50);
  const inside = waited.filter(within).length;
  const median = xs => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2
      ? s[s.length >> 1]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const mae = median(
    waited.map(w => Math.abs(w.estimate.start.seconds - w.real))
  );
  const naiveMae = median(waited.map(w => Math.abs(w.naive.seconds - w.real)));
  const busy = PROFILES.map(p => {
    const total = jobs
      .filter(j => j.pool === p.name)
      .reduce((a, j) => a + j.seconds, 0);
    return `${p.name} ${Math.round((100 * total) / (p.capacity * now))} %`;
  });
  // How wide the ranges are, relative to the point estimate (high / low of the median job).
  const width = median(
    waited.map(w => w.estimate.start.high - w.estimate.start.low)
  );
  const ratio = median(
    waited.map(w => (w.estimate.start.high + 30) / (w.estimate.start.low + 30))
  );
  console.log(
    `jobs: ${jobs.length} over ${(now / 3600).toFixed(1)} h; pools busy: ${busy.join(', ')}`
  );
  console.log(
    `started at once: ${jobs.length - waited.length - unknown}; waited: ${waited.length}; no estimate yet (no history): ${unknown}`
  );
  console.log(
    `range: the simulation's [p${Math.round(RANGE_LOW * 100)}, p${Math.round(RANGE_HIGH * 100)}], calibrated to cover ${COVERAGE * 100} % of the profile's recent starts: real start inside for ${inside} of ${waited.length} waiting jobs = ${((100 * inside) / waited.length).toFixed(1)} % (target >= 80 %)`
  );
  console.log(
    `  later than the range: ${later}, earlier: ${waited.length - inside - later}; per profile: ${PROFILES.map(
      p => {
        const w = waited.filter(x => x.pool === p.name);
        return `${p.name} ${w.filter(within).length}/${w.length}`;
      }
    ).join(', ')}`
  );
  console.log(
    `  once the profile has >= 50 finished runs: ${warm.filter(within).length} of ${warm.length} = ${((100 * warm.filter(within).length) / warm.length).toFixed(1)} %`
  );
  console.log(
    `median absolute error of the start: estimator ${Math.round(mae)} s, naive ${Math.round(naiveMae)} s (naive/estimator = ${(naiveMae / mae).toFixed(2)}x); median real wait ${Math.round(median(waited.map(w => w.real)))} s; median range width ${Math.round(width)} s (high/low ${ratio.toFixed(1)}x)`
  );
}

main();
