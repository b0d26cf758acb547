#!/usr/bin/env bash
# Runs every suite (or only those named), keeps going past failures, prints each suite's
# count and ends with one line: `N passed, N failed` over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
OUT="${NBQUEUE_TEST_OUT:-test-results}"
rm -rf "$OUT" && mkdir -p "$OUT"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(lint server labextension runner ui image k8s hub binder)

passed=0
failed=0
count() { # suite passed failed
  echo "== $1: $2 passed, $3 failed"
  passed=$((passed + $2))
  failed=$((failed + $3))
}
check() { # name command...: a lint step counts as one test
  local name=$1
  shift
  if bounded 600 "$OUT/$name.log" "$@" >/dev/null; then count "$name" 1 0; else cat "$OUT/$name.log"; count "$name" 0 1; fi
}
# Every suite runs under a time limit (seconds): one that hangs is stopped (TERM, then KILL 30 s
# later), counts as failed, and the run goes on to the totals instead of running into CI's own
# limit with nothing said. Output goes to a file, not a pipe: a process a suite left behind could
# hold a pipe open for ever.
bounded() { # seconds log command...
  local limit=$1 log=$2 started=$SECONDS rc
  shift 2
  timeout -k 30 "$limit" "$@" >"$log" 2>&1
  rc=$?
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "!! stopped after its limit of $limit s: $*" | tee -a "$log"
  fi
  echo "   ($((SECONDS - started)) s: $*)"
  return $rc
}
passed_failed() { # log: the counts in the last line of a Galata or binder run, else 0 1
  local line
  line=$(tail -n 1 "$1")
  if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"; else echo "0 1"; fi
}
jest_counts() { # workspace
  node -e 'const r=require(process.argv[1]); const broken=r.testResults.filter(t=>t.status==="failed"&&!t.assertionResults.length).length; console.log(r.numPassedTests, r.numFailedTests+broken)' "$PWD/$OUT/$1.json" 2>/dev/null || echo "0 1"
}

for suite in "${suites[@]}"; do
  echo "==== $suite ($(date -u +%H:%M:%S))"
  case $suite in
    lint)
      check prettier npx prettier --check .
      check eslint npx eslint .
      check api-generated npm run -s generate:api -w server -- --check
      # The server's tests and benchmarks, type-checked as a whole (ts-jest checks a test file only
      # when it runs, so a suite that does not compile showed up as one broken file at the end).
      check typecheck-tests npx tsc -p server/tsconfig.tests.json
      check ruff-check ruff check runner-image deploy server/test/hub
      check ruff-format ruff format --check runner-image deploy server/test/hub
      ;;
    server | labextension)
      (cd "$suite" && bounded 1500 "$PWD/../$OUT/$suite-jest.log" npx jest --ci --json --outputFile="$PWD/../$OUT/$suite.json")
      tail -n 60 "$OUT/$suite-jest.log"
      read -r p f < <(jest_counts "$suite")
      count "jest $suite" "$p" "$f"
      ;;
    runner)
      bounded 1500 "$OUT/pytest.log" python -m pytest -q --junitxml="$OUT/pytest.xml"
      tail -n 40 "$OUT/pytest.log"
      read -r p f < <(python - "$OUT/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
    s = root if root.tag == "testsuite" else root.find("testsuite")
    t, fl, er, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    print(t - fl - er - sk, fl + er)
except Exception:
    print(0, 1)
PY
)
      count pytest "$p" "$f"
      ;;
    ui)
      bounded 1500 "$OUT/ui-tests.log" bash ui-tests/run.sh
      tail -n 40 "$OUT/ui-tests.log"
      read -r p f < <(passed_failed "$OUT/ui-tests.log")
      count galata "$p" "$f"
      ;;
    image)
      # The single-user image (images/singleuser): built on the local Debian base (cached by a
      # hash of its sources; podman from Debian's packages when there is no docker), run, and
      # checked in Chromium: JupyterLab with nbqueue's labextension and server extension.
      bounded 1800 "$OUT/image-ui-tests.log" bash ui-tests/image/run.sh
      tail -n 40 "$OUT/image-ui-tests.log"
      read -r p f < <(passed_failed "$OUT/image-ui-tests.log")
      count "galata image" "$p" "$f"
      ;;
    hub)
      # A real JupyterHub with configurable-http-proxy, running deploy/jupyterhub: the jest
      # tests (REST, sockets, isolation, tokens) and the browser test through the hub's login.
      (cd server && bounded 900 "$PWD/../$OUT/hub-jest.log" npx jest -c test/hub/jest.config.js --ci --json --outputFile="$PWD/../$OUT/hub.json")
      tail -n 60 "$OUT/hub-jest.log"
      read -r p f < <(jest_counts hub)
      count "jest hub" "$p" "$f"
      bounded 900 "$OUT/hub-ui-tests.log" bash ui-tests/hub/run.sh
      tail -n 40 "$OUT/hub-ui-tests.log"
      read -r p f < <(passed_failed "$OUT/hub-ui-tests.log")
      count "galata hub" "$p" "$f"
      ;;
    binder)
      # binder/ without Docker: a fresh virtualenv, postBuild and start as repo2docker runs
      # them, then a browser submits the demo notebook (several minutes: a full build).
      bounded 1500 "$OUT/binder.log" bash binder/test-binder.sh
      tail -n 40 "$OUT/binder.log"
      read -r p f < <(passed_failed "$OUT/binder.log")
      count binder "$p" "$f"
      ;;
    k8s)
      # A real control plane (etcd, kube-apiserver, controller manager, scheduler, kwok) built
      # from Go modules on first use (about 10 minutes on 2 cores, cached in ~/.cache/nbqueue/k8s).
      # Job pods run as containers of the runner image, the sidecar from its image: the suite's
      # global setup builds both (images/build.sh --base local, cached by a hash of their
      # sources; podman from Debian's packages when there is no docker).
      if ! command -v go >/dev/null 2>&1 && ! [ -x /usr/local/go/bin/go ]; then
        echo "The k8s suite builds its control plane with Go 1.24 or newer: install Go (https://go.dev/dl/)."
        count k8s 0 1
        continue
      fi
      if ! bounded 2400 "$OUT/k8s-build.log" bash k8s/controlplane/build.sh; then
        tail -n 40 "$OUT/k8s-build.log"
        count k8s-build 0 1
        continue
      fi
      (cd server && bounded 2100 "$PWD/../$OUT/k8s-jest.log" npx jest -c test/k8s/jest.config.js --ci --json --outputFile="$PWD/../$OUT/k8s.json")
      tail -n 60 "$OUT/k8s-jest.log"
      read -r p f < <(jest_counts k8s)
      count "jest k8s" "$p" "$f"
      ;;
    *) echo "unknown suite $suite"; count "$suite" 0 1 ;;
  esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
