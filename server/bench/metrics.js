#!/usr/bin/env node
/**
 * `make bench`: metrics, measured in one process run (needs `npm run build -w server`).
 *
 * 1. log_metric -> socket.io latency: a cell logs N points (one every 10 ms), each carrying
 *    the kernel's wall time; a socket.io client subscribed to the job notes when each
 *    `metric` event arrives. Same machine, same clock.
 * 2. Ingest: a cell logs 100,000 points of one metric in a tight loop; points per second from
 *    the first point logged to the last one arriving at the socket, and the sidecar's RSS
 *    (it runs in this process) before and after.
 * 3. Overhead: 100,000 log_metric calls in a tight loop in a plain interactive kernel, minus
 *    the same empty loop (runner-image/tests/test_metrics_interactive.py asserts a bound).
 */
/* global setInterval, clearInterval */
const { spawnSync } = require('child_process');
const path = require('path');
const {
  REPO,
  PYTHON,
  code,
  notebook,
  pct,
  mb,
  runJob,
  startBenchSidecar
} = require('./common');

const N = Number(process.env.BENCH_METRIC_POINTS ?? 500);
const INGEST = Number(process.env.BENCH_INGEST_POINTS ?? 100000);

function overhead() {
  const script = `
import os, sys, time
from jupyter_client.manager import KernelManager
from nbqueue.runner.kernel import KERNEL_NAME, OwnInterpreterKernelSpecManager
km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=OwnInterpreterKernelSpecManager())
km.start_kernel(env={k: v for k, v in os.environ.items() if not k.startswith("NBQUEUE_")})
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
code = """import nbqueue, time
t = time.perf_counter()
for i in range(100_000):
    nbqueue.log_metric('x', i * 0.5)
loop = time.perf_counter() - t
t = time.perf_counter()
for i in range(100_000):
    pass
print(loop - (time.perf_counter() - t))"""
try:
    msg_id = kc.execute(code)
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if m["parent_header"].get("msg_id") != msg_id: continue
        if m["msg_type"] == "stream" and m["content"]["name"] == "stdout":
            print(m["content"]["text"].strip())
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle": break
finally:
    kc.stop_channels(); km.shutdown_kernel(now=True)
`;
  const done = spawnSync(PYTHON, ['-c', script], {
    env: { ...process.env, PYTHONPATH: path.join(REPO, 'runner-image') },
    encoding: 'utf8'
  });
  const seconds = Number(done.stdout.trim().split('\n').pop());
  if (!Number.isFinite(seconds)) throw new Error(done.stderr || done.stdout);
  return seconds;
}

async function main() {
  const { s } = await startBenchSidecar();
  try {
    // 1. Latency.
    const latencies = [];
    let { job } = await runJob(
      s,
      notebook([
        code(
          'a',
          `import nbqueue, time\nfor i in range(${N}):\n    nbqueue.log_metric('loss', 1 / (i + 1))\n    time.sleep(0.01)`
        )
      ]),
      (ev, now) => {
        if (ev.type === 'metric' && ev.kind === 'user')
          latencies.push(now - ev.time);
      }
    );
    if (job.state !== 'succeeded' || latencies.length !== N)
      throw new Error(`latency job: ${job.state}, ${latencies.length} points`);
    latencies.sort((a, b) => a - b);
    console.log(
      `log_metric -> socket.io latency over ${N} points (one per 10 ms): p50 ${pct(latencies, 50)} ms, p95 ${pct(latencies, 95)} ms, max ${latencies[latencies.length - 1]} ms (target p95 < 150 ms)`
    );

    // 2. Ingest.
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let first;
    let lastArrival;
    let count = 0;
    let rssPeak = rssBefore;
    const peak = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 100);
    ({ job } = await runJob(
      s,
      notebook([
        code(
          'b',
          `import nbqueue\nfor i in range(${INGEST}):\n    nbqueue.log_metric('loss', 1 / (i + 1))`
        )
      ]),
      (ev, now) => {
        if (ev.type !== 'metric' || ev.kind !== 'user') return;
        first ??= ev.time;
        lastArrival = now;
        count += 1;
      }
    ));
    clearInterval(peak);
    const rssAfter = process.memoryUsage().rss;
    if (job.state !== 'succeeded' || count !== INGEST)
      throw new Error(`ingest job: ${job.state}, ${count} points`);
    const seconds = (lastArrival - first) / 1000;
    const stored = await (
      await fetch(`${s.url}/api/jobs/${job.id}/metrics?kind=user`, {
        headers: { Authorization: `Bearer ${s.token}` }
      })
    ).json();
    console.log(
      `ingest: ${INGEST} points of one metric in ${seconds.toFixed(2)} s = ${Math.round(INGEST / seconds)} points/s (first logged -> last on the socket); ${stored.metrics.length} stored; sidecar RSS ${mb(rssBefore)} before, ${mb(rssPeak)} peak, ${mb(rssAfter)} after`
    );
  } finally {
    await s.close();
  }

  // 3. Overhead.
  const o = overhead();
  console.log(
    `overhead: 100,000 log_metric calls in a tight loop add ${o.toFixed(3)} s (${((o / 100000) * 1e6).toFixed(2)} µs per call) in an interactive kernel`
  );
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
