// k6 script for the deploysafe sample service (tests/sample_app). Run by the load_test role
// (load_test_engine: k6, load_test_k6_script: <this file>) or by hand:
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e SCENARIO=smoke k6_script.js
// SCENARIO: smoke (5 VUs, 2 min), load (ramp 2 min to 50, 5 min to 100, sustain 10 min, down 3 min),
// stress (500 VUs, 10 min), spike (20 -> 200 -> 20). TIME_SCALE shortens every stage (e.g. 0.01).
// The thresholds mirror the load_test defaults; the module re-evaluates them per stage and endpoint
// from the raw samples, which k6 itself cannot do.
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const SCALE = parseFloat(__ENV.TIME_SCALE || '1');
const d = (seconds) => `${Math.max(1, Math.round(seconds * SCALE * 1000))}ms`;

const SCENARIOS = {
  smoke: { executor: 'constant-vus', vus: 5, duration: d(120) },
  load: {
    executor: 'ramping-vus', startVUs: 0,
    stages: [{ duration: d(120), target: 50 }, { duration: d(300), target: 100 },
             { duration: d(600), target: 100 }, { duration: d(180), target: 0 }],
  },
  stress: { executor: 'constant-vus', vus: 500, duration: d(600) },
  spike: {
    executor: 'ramping-vus', startVUs: 20,
    stages: [{ duration: d(60), target: 20 }, { duration: '1ms', target: 200 }, { duration: d(60), target: 200 },
             { duration: '1ms', target: 20 }, { duration: d(60), target: 20 }],
  },
};

const chosen = __ENV.SCENARIO || 'smoke';

export const options = {
  scenarios: { [chosen]: SCENARIOS[chosen] },
  discardResponseBodies: true,
  thresholds: {
    http_req_duration: ['p(95)<500', 'p(99)<1000'],
    http_req_failed: ['rate<0.001'],
    'http_req_duration{name:search}': ['p(95)<800'],
  },
};

const TERMS = ['backup', 'restore', 'postgres', 'deploy', 'rollback', 'latency'];

export default function () {
  const r = Math.random();
  let res;
  if (r < 0.5) {
    res = http.get(`${BASE}/api/workspaces`, { tags: { name: 'workspaces' } });
  } else if (r < 0.8) {
    res = http.get(`${BASE}/api/search?q=${TERMS[Math.floor(Math.random() * TERMS.length)]}`, { tags: { name: 'search' } });
  } else {
    res = http.get(`${BASE}/api/workflows?workspace_id=${1 + Math.floor(Math.random() * 20)}`, { tags: { name: 'workflows' } });
  }
  check(res, { 'status is 2xx': (x) => x.status >= 200 && x.status < 300 });
  sleep(0.1);
}
