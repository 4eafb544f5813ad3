// End-to-end latency through the real stack (PostgreSQL, Redis, BullMQ, Bolt) with the fake Slack:
// N requests through the API, each approved by a Slack-signed button click.
// Prints p50/p95/p99 of submit → message posted, click → HTTP ack, approve → thread reply with the
// result, and requests/second; writes bench/results/e2e-latency.json.
// OLD_GATEWAY_DIR=<another checkout, prisma client generated>: that checkout's gateway runs in the
// same process and run, its requests alternating with this one's, and is printed as the baseline.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import setup from '../test/global-setup.js';
import { blockAction, slashCommand } from '../test/fakes/slack-requests.js';
import { createTargetDatabase } from '../test/helpers/databases.js';
import { startTestGateway } from '../test/helpers/gateway.js';

const N = Number(process.env.N ?? 200);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 10);

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(values: number[]) {
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: values.length, p50: r(pct(values, 50)), p95: r(pct(values, 95)), p99: r(pct(values, 99)), max: r(Math.max(...values)) };
}

type StartGateway = typeof startTestGateway;

/** One gateway under measurement: its users, connection and subscribed reviewer, and its figures. */
async function prepareSide(label: string, start: StartGateway, targetUrl: string) {
  const t = await start({});
  const requester = await t.createUser('bench-requester@example.com', ['developers']);
  await t.createUser('bench-dba@example.com', ['dba-team']);
  await t.api('POST', '/api/connections', { body: { name: 'bench', url: targetUrl, reviewers: ['dba-team'] } });
  t.slack.users.set('UDBA', { email: 'bench-dba@example.com' });
  await t.slackPost(slashCommand('UDBA', 'subscribe'));

  // Resolve per review id as the fake records calls (polling would load the CPU measured).
  type Call = (typeof t.slack.calls)[number];
  const waiting = new Map<string, (c: Call) => void>();
  const arrived = new Map<string, Call>();
  const waitCall = (key: string) =>
    new Promise<Call>((resolve) => {
      const early = arrived.get(key);
      if (early) resolve(early);
      else waiting.set(key, resolve);
    });
  const ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
  t.slack.onCall((c) => {
    if (c.method !== 'chat.postMessage') return;
    const id = ID.exec(c.args.thread_ts ? String(c.args.text) : JSON.stringify(c.args.blocks ?? ''))?.[0];
    if (!id) return;
    const key = c.args.thread_ts ? `reply:${id}` : c.args.channel === 'UDBA' ? `post:${id}` : '';
    if (!key || arrived.has(key)) return;
    arrived.set(key, c);
    waiting.get(key)?.(c);
    waiting.delete(key);
  });

  const posted: number[] = [];
  const acks: number[] = [];
  const replies: number[] = [];
  const one = async (i: number) => {
    const submitAt = Date.now();
    const res = await t.api('POST', '/api/connections/bench/exec', { key: requester.apiKey, body: { input: `UPDATE users SET status = 'b${i}' WHERE id = ${(i % 3) + 1}` } });
    if (res.status !== 201) throw new Error(`${label} submit ${i}: ${res.status}`);
    const id: string = res.body.id;
    const post = await waitCall(`post:${id}`);
    posted.push(post.at - submitAt);
    const replyCall = waitCall(`reply:${id}`);
    const clickAt = performance.now();
    const clickWall = Date.now();
    const ack = await t.slackPost(blockAction('UDBA', 'review.approve', JSON.stringify({ reviewId: id, group: 'dba-team' }), 'DDBA', post.args.ts));
    acks.push(performance.now() - clickAt);
    if (ack.status !== 200) throw new Error(`${label} click ${i}: ${ack.status}`);
    const reply = await replyCall;
    replies.push(reply.at - clickWall);
  };
  const figures = () => ({
    submitToMessagePosted: summary(posted),
    clickToAck: summary(acks),
    approveToThreadReply: summary(replies),
  });
  return { label, t, one, figures };
}

async function main() {
  await setup();
  const target = await createTargetDatabase();
  const sides: Awaited<ReturnType<typeof prepareSide>>[] = [];
  try {
    // OLD_GATEWAY_DIR: another checkout's gateway (its own test helpers, src and Prisma client),
    // measured in the same process and run, its requests interleaved with this one's.
    if (process.env.OLD_GATEWAY_DIR) {
      const dir = path.resolve(process.env.OLD_GATEWAY_DIR);
      const old = (await import(pathToFileURL(path.join(dir, 'test/helpers/gateway.ts')).href)) as { startTestGateway: StartGateway };
      sides.push(await prepareSide('old', old.startTestGateway, target.url));
    }
    sides.push(await prepareSide('this', startTestGateway, target.url));
    let next = 0;
    const total = N * sides.length;
    const started = performance.now();
    const startedWall = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < total) {
          const i = next++;
          await sides[i % sides.length].one(Math.floor(i / sides.length));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const mine = sides.at(-1)!;
    const result = {
      bench: 'e2e-latency',
      date: new Date(startedWall).toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      requests: N,
      concurrency: CONCURRENCY,
      ms: mine.figures(),
      ...(sides.length > 1 ? { baseline: { gateway: process.env.OLD_GATEWAY_DIR, ms: sides[0].figures() } } : {}),
      requestsPerSecond: Math.round((total / seconds) * 10) / 10,
      note: 'each request: submit via API, wait for the DM, approve by a signed block_actions click, wait for the thread reply with the result' + (sides.length > 1 ? '; the baseline gateway\'s requests alternate with this one\'s in the same run' : ''),
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/e2e-latency.json', JSON.stringify(result, null, 2) + '\n');
  } finally {
    for (const side of sides) await side.t.stop();
    await target.drop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
