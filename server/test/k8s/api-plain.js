/**
 * A few plain HTTPS calls to the test API server with the admin token (the tests read back
 * what the sidecar did; kubectl and @kubernetes/client-node are not needed for that).
 */
const fs = require('fs');
const https = require('https');
const path = require('path');
const { URL } = require('url');

function readEnv(dir) {
  return Object.fromEntries(
    fs
      .readFileSync(path.join(dir, 'env'), 'utf8')
      .split('\n')
      .filter(l => l.includes('='))
      .map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
  );
}

const cas = new Map();
// A connection per call: global setup blocks the event loop for minutes (execFileSync of the
// image builds), past the API server's idle timeout, and a kept-alive socket it closed
// meanwhile would fail the next call with "socket hang up".
const agent = new https.Agent({ keepAlive: false });
function request(env, method, route, body, contentType = 'application/json') {
  if (!cas.has(env.K8S_CA)) cas.set(env.K8S_CA, fs.readFileSync(env.K8S_CA));
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(route, env.K8S_SERVER),
      {
        method,
        agent,
        ca: cas.get(env.K8S_CA),
        headers: {
          authorization: `Bearer ${env.K8S_TOKEN}`,
          'content-type': contentType
        }
      },
      res => {
        let text = '';
        res.on('data', d => (text += d));
        res.on('end', () => {
          let parsed = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode, body: parsed });
        });
      }
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

module.exports = { readEnv, request };
