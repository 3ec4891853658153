// k6 script for the deploysafe sample service (tests/sample_app). Run by the load_test role
// (load_test_engine: k6, load_test_k6_script: <this file>) or by hand:
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e SCENARIO=load k6_script.js
// SCENARIO: load (default: ramp 2 min to 50 VUs, 5 min to 100, sustain 10 min, ramp down 3 min),
// smoke (5 VUs, 2 min), stress (500 VUs, 10 min), spike (20 -> 200 -> 20). TIME_SCALE shortens every
// stage (load_test passes its time_scale; 0.01 plays the load shape in 12 s); TARGET_SCALE multiplies
// the VUs (load_test's target_scale).
// The same endpoints and request names as locustfile.py (PlatformUser : AdminUser : HeavyUser = 6 : 1 : 1
// iterations); DEPLOYSAFE_HEAVY_SIZE bounds the heavy jobs (default 20). Searches check their result (the expected
// top hit); the custom Rate `errors` counts failed checks and failed requests.
// The thresholds mirror the load_test defaults and the search budgets; the module re-evaluates them per
// stage and endpoint from the raw samples, which k6 itself cannot do.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Rate } from 'k6/metrics';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const SCALE = parseFloat(__ENV.TIME_SCALE || '1');
const USERS = parseFloat(__ENV.TARGET_SCALE || '1');
const HEAVY_SIZE = parseInt(__ENV.DEPLOYSAFE_HEAVY_SIZE || '20', 10);
const d = (seconds) => `${Math.max(1, Math.round(seconds * SCALE * 1000))}ms`;
const u = (vus) => (vus ? Math.max(1, Math.round(vus * USERS)) : 0);
const errors = new Rate('errors');

const SCENARIOS = {
  smoke: { executor: 'constant-vus', vus: u(5), duration: d(120) },
  load: {
    executor: 'ramping-vus', startVUs: 0,
    stages: [{ duration: d(120), target: u(50) }, { duration: d(300), target: u(100) },
             { duration: d(600), target: u(100) }, { duration: d(180), target: 0 }],
  },
  stress: { executor: 'constant-vus', vus: u(500), duration: d(600) },
  spike: {
    executor: 'ramping-vus', startVUs: u(20),
    stages: [{ duration: d(60), target: u(20) }, { duration: '1ms', target: u(200) }, { duration: d(60), target: u(200) },
             { duration: '1ms', target: u(20) }, { duration: d(60), target: u(20) }],
  },
};

const chosen = __ENV.SCENARIO || 'load';
if (!SCENARIOS[chosen]) {
  throw new Error(`unknown SCENARIO ${chosen}; known: ${Object.keys(SCENARIOS).join(', ')}`);
}

export const options = {
  scenarios: { [chosen]: SCENARIOS[chosen] },
  thresholds: {
    http_req_duration: ['p(95)<500', 'p(99)<1000'],
    http_req_failed: ['rate<0.01'],
    errors: ['rate<0.001'],
    'http_req_duration{name:search}': ['p(95)<200'],
    'http_req_duration{name:complex_search}': ['p(95)<500'],
    'http_req_duration{name:kb_search}': ['p(95)<300'],
  },
};

const TERMS = ['backup', 'restore', 'postgres', 'deploy', 'rollback', 'kubernetes', 'latency', 'alert', 'canary'];
const JSON_HEADERS = { headers: { 'Content-Type': 'application/json' } };
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const between = (low, high) => sleep((low + Math.random() * (high - low)) * Math.min(SCALE, 1));
const text = (item) => `${item.title} ${item.body}`.toLowerCase();

function get(path, name) { return http.get(`${BASE}${path}`, { tags: { name: name } }); }
function post(path, body, name) {
  return http.post(`${BASE}${path}`, JSON.stringify(body), Object.assign({ tags: { name: name } }, JSON_HEADERS));
}

// One result per request: a failed status, or a search whose answer is wrong, is an error.
function verify(res, accept) {
  let ok = res.status >= 200 && res.status < 300;
  if (ok && accept) {
    let items = null;
    try { items = res.json('items'); } catch (e) { items = null; }
    ok = Array.isArray(items) && accept(items);
  }
  check(res, { [`${res.request ? res.request.method : ''} ok`]: () => ok });
  errors.add(!ok);
  return ok;
}

// Workflows are written into a workspace of the run's own, never into existing ones.
export function setup() {
  const res = post('/api/workspaces', { name: `k6-run-${Date.now()}-${Math.random().toString(16).slice(2, 8)}` }, 'create_workspace');
  if (res.status !== 201) { throw new Error(`setup: creating the run's workspace answered ${res.status}`); }
  return { workspace: res.json('id') };
}

function platform(data) {
  const r = Math.random();
  if (r < 0.06) { verify(get('/healthz', 'healthz')); }
  else if (r < 0.35) { verify(get(`/api/workspaces?limit=${pick([10, 50, 100])}`, 'workspaces')); }
  else if (r < 0.40) { verify(post('/api/workspaces', { name: `k6-${Date.now()}-${Math.random().toString(16).slice(2, 10)}` }, 'create_workspace')); }
  else if (r < 0.55) { verify(get(`/api/workflows?workspace_id=${1 + Math.floor(Math.random() * 20)}`, 'workflows')); }
  else if (r < 0.60) { verify(post('/api/workflows', { workspace_id: data.workspace, name: 'k6', steps: ['build', 'deploy'] }, 'create_workflow')); }
  else if (r < 0.68) {
    const list = get('/api/workflows', 'workflows');
    if (verify(list)) {
      const items = list.json('items');
      if (items.length) { verify(post(`/api/workflows/${pick(items).id}/executions`, {}, 'trigger_execution')); }
    }
  } else if (r < 0.84) {
    const term = pick(TERMS);
    verify(get(`/api/search?q=${term}`, 'search'), (items) => items.length > 0 && text(items[0]).includes(term));
  } else if (r < 0.95) {
    const article = 1 + Math.floor(Math.random() * 1000);
    verify(get(`/api/knowledge/search?q=article+${article}&limit=5`, 'kb_search'),
           (items) => items.length > 0 && items[0].id === article);
  } else {
    verify(post('/api/knowledge', { title: `Load note ${Math.random().toString(16).slice(2, 14)}`, body: `Recorded by k6: ${pick(TERMS)}.` }, 'add_knowledge'));
  }
  between(0.5, 2);
}

function admin() {
  const r = Math.random();
  if (r < 0.33) { verify(get('/admin/system/metrics', 'system_metrics')); }
  else if (r < 0.55) { verify(get(`/admin/audit-logs?limit=${pick([20, 100])}`, 'audit_logs')); }
  else if (r < 0.66) { verify(get('/admin/users', 'users')); }
  else if (r < 0.77) { verify(post('/admin/users', { name: `k6-${Math.random().toString(16).slice(2, 12)}`, role: pick(['member', 'viewer', 'admin']) }, 'create_user')); }
  else { verify(get('/admin/costs', 'costs')); }
  between(1, 3);
}

function heavy() {
  const r = Math.random();
  if (r < 0.17) { verify(post('/api/projects/generate', { size: HEAVY_SIZE, seed: Math.floor(Math.random() * 1e6) }, 'generate_project')); }
  else if (r < 0.5) { verify(get(`/api/datasets/search?q=${pick(TERMS)}&rows=${HEAVY_SIZE * 1000}`, 'dataset_search')); }
  else if (r < 0.67) { verify(post('/api/analysis/codebase', { size: HEAVY_SIZE, seed: Math.floor(Math.random() * 1e6) }, 'analyse_codebase')); }
  else {
    const [must, extra] = [pick(TERMS), pick(TERMS)];
    verify(post('/api/search/complex', { all: [must], any: [extra, 'restore'], none: ['canary'], limit: 100 }, 'complex_search'),
           (items) => items.every((i) => text(i).includes(must) && !text(i).includes('canary')));
  }
  between(2, 5);
}

export default function (data) {
  const r = Math.random() * 8;
  if (r < 6) { platform(data); } else if (r < 7) { admin(); } else { heavy(); }
}
