#!/usr/bin/env node
/**
 * `make bench`: streaming latency and overhead against papermill, measured in one process run.
 *
 * 1. print -> socket.io latency: a cell prints N timestamped lines (one every 2 ms); a socket.io
 *    client subscribed to the job records when each arrives. Same machine, same clock.
 * 2. nbqueue vs papermill: the same notebook run through the local backend (submit -> succeeded,
 *    measured by the client) and through `papermill` directly, alternating, R rounds; the
 *    figure is the ratio of the medians.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const {
  PYTHON,
  code,
  notebook,
  pct,
  median,
  runJob,
  startBenchSidecar
} = require('./common');

const N = Number(process.env.BENCH_OUTPUTS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function main() {
  const { dir, s } = await startBenchSidecar();
  const results = {};
  try {
    // 1. Latency.
    const latencies = [];
    const latNb = notebook([
      code(
        'a',
        `import time\nfor i in range(${N}):\n    print(f"{time.time()*1000:.3f}", flush=True)\n    time.sleep(0.002)`
      )
    ]);
    const { job } = await runJob(s, latNb, (ev, now) => {
      if (ev.type !== 'output' || ev.output.output_type !== 'stream') return;
      for (const line of String(ev.output.text).split('\n'))
        if (line) latencies.push(now - Number(line));
    });
    if (job.state !== 'succeeded')
      throw new Error(`latency job ${job.state}: ${job.reason}`);
    latencies.sort((a, b) => a - b);
    results.latency = {
      n: latencies.length,
      p50: pct(latencies, 50),
      p95: pct(latencies, 95),
      max: latencies[latencies.length - 1]
    };
    console.log(
      `print -> socket.io latency over ${latencies.length} outputs: p50 ${results.latency.p50.toFixed(1)} ms, p95 ${results.latency.p95.toFixed(1)} ms, max ${results.latency.max.toFixed(1)} ms`
    );

    // 2. nbqueue vs papermill on the same notebook.
    const work = notebook([
      code('p', 'steps = 20'),
      code(
        'b',
        'import time, math\ntotal = 0\nfor step in range(steps):\n    total += sum(math.sqrt(i) for i in range(20000))\n    print(f"step {step} total={total:.1f}", flush=True)\n    time.sleep(0.05)'
      ),
      code(
        'c',
        'from IPython.display import display, HTML\nh = display(HTML("<b>0</b>"), display_id=True)\nfor i in range(20):\n    h.update(HTML(f"<b>{i}</b>"))'
      ),
      code('d', 'total')
    ]);
    const input = path.join(dir, 'work.ipynb');
    fs.writeFileSync(input, JSON.stringify(work));
    const nbq = [];
    const pm = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      const out = spawnSync(
        PYTHON,
        [
          '-m',
          'papermill',
          '--no-progress-bar',
          '-k',
          'python3',
          input,
          path.join(dir, `pm-${r}.ipynb`)
        ],
        {
          cwd: dir,
          encoding: 'utf8'
        }
      );
      if (out.status !== 0) throw new Error(`papermill failed: ${out.stderr}`);
      pm.push(performance.now() - t);
      const run = await runJob(s, work);
      if (run.job.state !== 'succeeded')
        throw new Error(`nbqueue job ${run.job.state}: ${run.job.reason}`);
      nbq.push(run.ms);
    }
    results.ratio = median(nbq) / median(pm);
    console.log(
      `same notebook, median of ${ROUNDS}: nbqueue (submit -> succeeded, all events delivered) ${median(nbq).toFixed(0)} ms, papermill ${median(pm).toFixed(0)} ms, ratio ${results.ratio.toFixed(2)}`
    );
    console.log(
      `  nbqueue runs (ms): ${nbq.map(x => x.toFixed(0)).join(', ')}`
    );
    console.log(
      `  papermill runs (ms): ${pm.map(x => x.toFixed(0)).join(', ')}`
    );
  } finally {
    await s.close();
  }
  const fail = [];
  if (results.latency.p95 >= 100)
    fail.push(
      `latency p95 ${results.latency.p95.toFixed(1)} ms is over the 100 ms target`
    );
  if (results.ratio > 1.1)
    fail.push(`ratio ${results.ratio.toFixed(2)} is over the 1.10 target`);
  console.log(
    fail.length
      ? `targets missed: ${fail.join('; ')}`
      : 'targets met: p95 < 100 ms, ratio <= 1.10'
  );
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
