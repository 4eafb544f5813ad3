// Issue 9, target 5: one gateway process holding 10,000 pending requests stays under 200 MB RSS.
// The gateway is a child process (`node --import tsx src/main.ts`, Slack on, against the fake
// Slack of this process); its RSS is read from /proc while it is idle (the baseline, same run),
// then while it takes 10,000 pending requests, relays their jobs (10,000 delayed expiry jobs and
// 10,000 review messages posted to Slack) and runs its periodic sweeps over them (the full sweep
// every 30 s walks every pending request; the expiry pass every 5 s).
// The requests are stored as the submit use case stores them, copied from one request submitted
// through the API, in one statement (submitting 10,000 through HTTP takes minutes and leaves no
// per-request state in the process once answered; what the process holds afterwards is the same).
// Prints the figures; writes bench/results/pending-memory.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { copyPendingRequests } from './copy-pending.js';
import setup from '../test/global-setup.js';
import { startFakeSlack } from '../test/fakes/fake-slack.js';
import { createStateDatabase, createTargetDatabase } from '../test/helpers/databases.js';
import { gatewayEnv, productionArgv, startGatewayProcess } from '../test/helpers/gateway-process.js';
import { SIGNING_SECRET } from '../test/helpers/gateway.js';

const N = Number(process.env.PENDING_N ?? 10_000);
/** How long the process is watched once every request is posted: at least two full sweeps. */
const HOLD_MS = Number(process.env.PENDING_HOLD_MS ?? 70_000);
const LIMIT_MB = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (kb: number) => Math.round(kb / 102.4) / 10;

function memKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

async function main() {
  const teardown = await setup();
  const state = await createStateDatabase();
  const target = await createTargetDatabase();
  const slack = await startFakeSlack();
  const env = gatewayEnv(state.url, {
    LOG_LEVEL: 'info',
    REVIEW_TIMEOUT_SEC: '3600',
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    SLACK_BOT_ID: 'BBOT',
    SLACK_BOT_USER_ID: 'UBOT',
    SLACK_CHANNEL: 'C-REVIEWS', NODE_OPTIONS: process.env.GW_NODE_OPTIONS ?? '',
  });
  // As `npm start` runs it; GATEWAY_ARGV (space-separated node arguments) compares another way.
  const argv = process.env.GATEWAY_ARGV ? process.env.GATEWAY_ARGV.split(' ') : productionArgv();
  console.log(`gateway: node ${argv.join(' ')}`);
  const gw = startGatewayProcess(env, { argv });
  const sql = new pg.Pool({ connectionString: state.url, max: 2 });
  const count = async (q: string) => Number((await sql.query(q)).rows[0].n);
  const samples: { at: number; phase: string; rssKb: number }[] = [];
  let phase = 'idle';
  const sampler = setInterval(() => samples.push({ at: Date.now(), phase, rssKb: memKb(gw.pid).rss }), 250);
  try {
    await gw.listening;
    const alice = await gw.api('POST', '/api/users', { body: { email: 'alice@example.com', groups: ['developers'] } });
    await gw.api('POST', '/api/users', { body: { email: 'dana@example.com', groups: ['dba-team'] } });
    await gw.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
    const first = await gw.api('POST', '/api/connections/prod-db/exec', { key: alice.body.apiKey, body: { input: "UPDATE users SET status = 'x' WHERE id = 1" } });
    if (first.status !== 201) throw new Error(`submit: ${first.status} ${JSON.stringify(first.body)}`);
    await slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage'));
    // Idle: started, one request served and posted, every timer running. Let it settle.
    await sleep(10_000);
    const idle = samples.filter((s) => s.phase === 'idle').slice(-20);
    const idleKb = Math.round(idle.reduce((a, s) => a + s.rssKb, 0) / idle.length);
    console.log(`baseline: the gateway idle, ${mb(idleKb)} MB RSS`);

    phase = 'loading';
    const started = Date.now();
    await copyPendingRequests(sql, first.body.id, N, env.QUEUE_PREFIX);
    for (;;) {
      const posted = await count(`SELECT count(*) AS n FROM "ChannelMessage" WHERE channel = 'slack' AND kind = 'request' AND status = 'posted'`);
      const queued = await count(`SELECT count(*) AS n FROM "OutboxJob"`);
      if (posted >= N + 1 && queued === 0) break;
      if (Date.now() - started > 15 * 60_000) throw new Error(`only ${posted} of ${N + 1} posted after 15 min`);
      await sleep(1000);
    }
    const loadSec = Math.round((Date.now() - started) / 100) / 10;
    console.log(`${N} pending requests stored, relayed and posted in ${loadSec} s`);
    phase = 'holding';
    await sleep(HOLD_MS);
    const pending = await count(`SELECT count(*) AS n FROM "Review" WHERE status = 'PENDING'`);
    const { hwm } = memKb(gw.pid);
    const loadPeakKb = Math.max(...samples.filter((s) => s.phase === 'loading').map((s) => s.rssKb));
    const hold = samples.filter((s) => s.phase === 'holding');
    const holdPeakKb = Math.max(...hold.map((s) => s.rssKb));
    const holdEndKb = hold.at(-1)!.rssKb;
    const peakKb = Math.max(loadPeakKb, holdPeakKb, hwm);
    console.log(`holding ${pending} pending: RSS peak while loading ${mb(loadPeakKb)} MB, peak while holding ${mb(holdPeakKb)} MB, at the end ${mb(holdEndKb)} MB, high-water mark ${mb(hwm)} MB (limit ${LIMIT_MB} MB; idle ${mb(idleKb)} MB)`);
    const out = {
      at: new Date().toISOString(),
      n: N,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      target: { rssMb: LIMIT_MB },
      argv,
      baseline: { idleRssMb: mb(idleKb) },
      result: { pending, loadSec, holdSec: HOLD_MS / 1000, loadPeakRssMb: mb(loadPeakKb), holdPeakRssMb: mb(holdPeakKb), holdEndRssMb: mb(holdEndKb), highWaterMarkMb: mb(hwm), met: peakKb < LIMIT_MB * 1024, overIdleMb: mb(peakKb - idleKb) },
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/pending-memory.json', JSON.stringify(out, null, 2) + '\n');
  } finally {
    clearInterval(sampler); console.log(gw.output().split('\n').filter((l) => l.startsWith('MEM')).join('\n'));
    await sql.end();
    await gw.dispose();
    await slack.close();
    await target.drop();
    await state.drop();
    await teardown();
  }
}

await main();
