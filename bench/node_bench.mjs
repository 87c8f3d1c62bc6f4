// bench/node_bench.mjs: the same jobs as bench/run.lua through the official OpenAI Node SDK
// (npm `openai`, from tests/node/node_modules), the peer of `make bench`.
//
//   node bench/node_bench.mjs MODE BASE_URL KEY [ARGS...]
//     retrieve PROJECT_ID N          N sequential projects.retrieve
//     page LIMIT                      walk every audit-log event (for await), limit per page
//     latency PROJECT_ID N C          N retrieves, C at a time (a promise pool)
//     ratelimit P_ID U_ID N C         N requests over 4 endpoints, C at a time, SDK defaults
//     memory LIMIT                    walk every audit-log event, sampling RSS
// Prints one line "result key=value ...": cpu (user+sys seconds, process.cpuUsage), wall, ...
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'node', 'package.json'));
const { OpenAI } = require('openai');

const [mode, baseURL, adminAPIKey, ...rest] = process.argv.slice(2);
const client = new OpenAI({ adminAPIKey, apiKey: 'unused', baseURL });
const org = client.admin.organization;

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const wall = () => Number(process.hrtime.bigint()) / 1e9;

async function pool(n, concurrency, job) {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      try {
        await job(i);
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}

const out = (fields) =>
  console.log('result ' + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(4) : v}`).join(' '));

if (mode === 'retrieve') {
  const [pid, n] = [rest[0], Number(rest[1])];
  for (let i = 0; i < 20; i++) await org.projects.retrieve(pid);
  const c0 = cpu(), w0 = wall();
  for (let i = 0; i < n; i++) await org.projects.retrieve(pid);
  out({ requests: n, cpu: cpu() - c0, wall: wall() - w0 });
} else if (mode === 'page' || mode === 'memory') {
  const limit = Number(rest[0]);
  const c0 = cpu(), w0 = wall();
  let items = 0, rss0 = 0, rssMax = 0;
  for await (const ev of org.auditLogs.list({ limit })) {
    items += 1;
    if (ev.id === undefined) throw new Error('bad event');
    if (mode === 'memory' && items % 10000 === 1) {
      const rss = process.memoryUsage().rss;
      if (rss0 === 0) rss0 = rss;
      if (rss > rssMax) rssMax = rss;
    }
  }
  const fields = { items, cpu: cpu() - c0, wall: wall() - w0 };
  if (mode === 'memory') {
    fields.rss_start_mb = rss0 / 1048576;
    fields.rss_growth_mb = (Math.max(rssMax, process.memoryUsage().rss) - rss0) / 1048576;
  }
  out(fields);
} else if (mode === 'latency') {
  const [pid, n, c] = [rest[0], Number(rest[1]), Number(rest[2])];
  await org.projects.retrieve(pid);
  const c0 = cpu(), w0 = wall();
  const failures = await pool(n, c, () => org.projects.retrieve(pid));
  out({ requests: n, failures, cpu: cpu() - c0, wall: wall() - w0 });
} else if (mode === 'ratelimit') {
  const [pid, uid, n, c] = [rest[0], rest[1], Number(rest[2]), Number(rest[3])];
  const jobs = [
    () => org.projects.retrieve(pid),
    () => org.users.retrieve(uid),
    () => org.projects.users.list(pid, { limit: 1 }),
    () => org.projects.serviceAccounts.list(pid, { limit: 1 }),
  ];
  const c0 = cpu(), w0 = wall();
  const failures = await pool(n, c, (i) => jobs[i % 4]());
  out({ requests: n, failures, cpu: cpu() - c0, wall: wall() - w0 });
} else {
  console.error('unknown mode ' + mode);
  process.exit(2);
}
