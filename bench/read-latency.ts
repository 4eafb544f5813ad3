// What a read costs through the gateway against the same read sent straight to PostgreSQL — the
// first target of issue 9 (at most 3× p50 / 4× p95 for a point SELECT, 1.5× for 1,000 rows).
// Interleaved in one run, so both sides see the same machine: for each round, one read through
// `POST /api/connections/:name/exec` (auto-run, reviewMode writes: audited, masked, read-only) and
// the same statement with `pg` inside BEGIN READ ONLY on a connection kept open.
// Prints p50/p95 of each and their ratios; writes bench/results/read-latency.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import pg from 'pg';
import setup from '../test/global-setup.js';
import { createTargetDatabase } from '../test/helpers/databases.js';
import { startTestGateway } from '../test/helpers/gateway.js';

const N = Number(process.env.N ?? 300);
const WARMUP = 20;

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(values: number[]) {
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: values.length, p50: r(pct(values, 50)), p95: r(pct(values, 95)), max: r(Math.max(...values)) };
}

async function main() {
  const teardown = await setup();
  const target = await createTargetDatabase();
  await target.query('CREATE TABLE rows1k AS SELECT g AS id, md5(g::text) AS label, now() AS at FROM generate_series(1, 1000) g');
  // The production sweep interval (the test helper's default of 1 s would add its queries to every read's CPU).
  const t = await startTestGateway({ slack: false, sweepIntervalMs: 30_000 });
  const direct = new pg.Client({ connectionString: target.url });
  await direct.connect();
  try {
    const reader = await t.createUser('bench-reader@example.com', ['developers']);
    await t.api('POST', '/api/connections', { body: { name: 'bench', url: target.url, reviewers: ['dba-team'], reviewMode: 'writes' } });

    // node:http on a kept-alive connection, as an agent's HTTP client would: the global fetch
    // (undici) costs 0.4-0.8 ms per request on its own here, more than the whole direct read.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(`${t.baseUrl}/api/connections/bench/exec`);
    const post = (body: string) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = http.request(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { authorization: `Bearer ${reader.apiKey}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    // CPU time of this process (client and gateway, or client alone) per read: steadier than
    // wall-clock time on a loaded machine.
    const cpu = { gateway: 0, direct: 0 };
    const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    const viaGateway = async (sql: string) => {
      const started = performance.now();
      const c0 = process.cpuUsage();
      const res = await post(JSON.stringify({ input: sql }));
      cpu.gateway += cpuMs(process.cpuUsage(c0));
      const ms = performance.now() - started;
      if (res.status !== 201 || res.body.status !== 'EXECUTED') throw new Error(`the read did not run at once: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      return ms;
    };
    const viaPg = async (sql: string) => {
      const started = performance.now();
      const c0 = process.cpuUsage();
      await direct.query('BEGIN READ ONLY');
      await direct.query(sql);
      await direct.query('COMMIT');
      cpu.direct += cpuMs(process.cpuUsage(c0));
      return performance.now() - started;
    };

    const cases = { point: 'SELECT id, email, status FROM users WHERE id = 2', rows1k: 'SELECT id, label, at FROM rows1k' };
    const result: Record<string, unknown> = {};
    for (const [name, sql] of Object.entries(cases)) {
      const gateway: number[] = [];
      const straight: number[] = [];
      cpu.gateway = 0;
      cpu.direct = 0;
      for (let i = 0; i < WARMUP + N; i++) {
        // Alternate which goes first, so neither side always finds the caches warm.
        const pair = i % 2 === 0 ? [await viaGateway(sql), await viaPg(sql)] : [await viaPg(sql), await viaGateway(sql)].reverse();
        if (i < WARMUP) continue;
        gateway.push(pair[0]);
        straight.push(pair[1]);
      }
      const g = summary(gateway);
      const d = summary(straight);
      const ratio = { p50: Math.round((g.p50 / d.p50) * 10) / 10, p95: Math.round((g.p95 / d.p95) * 10) / 10 };
      const cpuPerRead = { gateway: Math.round((cpu.gateway / (WARMUP + N)) * 1000) / 1000, direct: Math.round((cpu.direct / (WARMUP + N)) * 1000) / 1000 };
      result[name] = { sql, gatewayMs: g, directMs: d, ratio, cpuMsPerRead: cpuPerRead, loadAverage: os.loadavg()[0] };
      console.log(`${name}: gateway p50 ${g.p50} ms p95 ${g.p95} ms | direct (pg, BEGIN READ ONLY) p50 ${d.p50} ms p95 ${d.p95} ms | ratio p50 ${ratio.p50}× p95 ${ratio.p95}× | CPU per read ${cpuPerRead.gateway} ms vs ${cpuPerRead.direct} ms | load ${os.loadavg()[0].toFixed(1)}`);
    }
    const out = {
      at: new Date().toISOString(),
      n: N,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      targets: { point: { p50: 3, p95: 4 }, rows1k: { p50: 1.5 } },
      ...result,
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/read-latency.json', JSON.stringify(out, null, 2) + '\n');
  } finally {
    await direct.end();
    await t.stop();
    await target.drop();
    await teardown();
  }
}

await main();
