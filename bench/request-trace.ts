// One request at a time through the whole approval pipeline, traced: every statement sent to the
// state database and every Redis command, with its time since the step began. Prints the timeline
// of the last of ROUNDS requests (TRACE=1) and, for each request, how many statements and commands
// the two paths took: submit → the reviewer's DM posted, and Approve click → thread reply with the
// result (the sweep's own periodic queries left out). These counts do not depend on how loaded the
// machine is, unlike the times of bench:e2e. Writes bench/results/request-trace.json.
// OLD_GATEWAY_DIR is not supported: run this script from the other checkout to compare.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import setup from '../test/global-setup.js';
import { blockAction, slashCommand } from '../test/fakes/slack-requests.js';
import { createTargetDatabase } from '../test/helpers/databases.js';
import { startTestGateway } from '../test/helpers/gateway.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
// The sweep's periodic reads (every second in test gateways) are not part of a request.
const SWEEP = /WHERE \("t0"\."status" = CAST|Review_channelMessages|"t0"\."finishedAt", "Review_groups"/;
const BLOCKING = new Set(['bzpopmin', 'brpoplpush', 'blmove', 'bzmpop']);

type Phase = 'idle' | 'submit' | 'approve';
let phase: Phase = 'idle';
let t0 = 0;
const timeline: string[] = [];
const count = { submit: { pg: 0, redis: 0 }, approve: { pg: 0, redis: 0 } };
const mark = (what: string) => {
  if (phase !== 'idle') timeline.push(`${(performance.now() - t0).toFixed(1).padStart(8)}  ${what}`);
};

// Every query of every pg client (the gateway's Prisma pool included), promise or callback style.
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
(pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: pg.Client, ...args: unknown[]) {
  const config = args[0] as string | { text?: string };
  const text = (typeof config === 'string' ? config : config?.text ?? '').replace(/\s+/g, ' ').trim();
  const state = !(this as unknown as { database?: string }).database?.startsWith('hoop_target');
  if (phase !== 'idle' && state && !SWEEP.test(text)) {
    count[phase].pg++;
    mark(`pg     ${text.slice(0, 120)}`);
  }
  return query.apply(this, args);
};
const send = (Redis.prototype as unknown as { sendCommand: (...a: unknown[]) => unknown }).sendCommand;
(Redis.prototype as unknown as { sendCommand: (...a: unknown[]) => unknown }).sendCommand = function (this: Redis, ...args: unknown[]) {
  const cmd = args[0] as { name: string; args?: unknown[] };
  if (phase !== 'idle' && !BLOCKING.has(cmd.name) && !String(cmd.args?.[0] ?? '').includes('slack-seen')) {
    count[phase].redis++;
    mark(`redis  ${cmd.name} ${String(cmd.args?.[0] ?? '').replace(/\s+/g, ' ').slice(0, 60)}`);
  }
  return send.apply(this, args);
};

async function main() {
  await setup();
  const target = await createTargetDatabase();
  const t = await startTestGateway({});
  const rounds: { submitToPost: typeof count.submit; clickToReply: typeof count.approve }[] = [];
  try {
    const requester = await t.createUser('trace-requester@example.com', ['developers']);
    await t.createUser('trace-dba@example.com', ['dba-team']);
    await t.api('POST', '/api/connections', { body: { name: 'trace', url: target.url, reviewers: ['dba-team'] } });
    t.slack.users.set('UDBA', { email: 'trace-dba@example.com' });
    await t.slackPost(slashCommand('UDBA', 'subscribe'));
    t.slack.onCall((c) => mark(`SLACK  ${c.method} ${c.args.channel}${c.args.thread_ts ? ' (thread)' : ''}`));
    const isDm = (id: string) => (c: (typeof t.slack.calls)[number]) => c.method === 'chat.postMessage' && c.args.channel === 'UDBA' && !c.args.thread_ts && JSON.stringify(c.args.blocks).includes(id);
    const isReply = (id: string) => (c: (typeof t.slack.calls)[number]) => c.method === 'chat.postMessage' && Boolean(c.args.thread_ts) && String(c.args.text).includes(id);
    for (let round = 0; round < ROUNDS; round++) {
      timeline.length = 0;
      count.submit = { pg: 0, redis: 0 };
      count.approve = { pg: 0, redis: 0 };
      const done = new Promise<void>((resolve) => {
        let id = '';
        t.slack.onCall((c) => {
          if (phase === 'submit' && id && isDm(id)(c)) phase = 'idle';
          if (phase === 'approve' && id && isReply(id)(c)) (phase = 'idle'), resolve();
        });
        void (async () => {
          t0 = performance.now();
          phase = 'submit';
          mark('submit');
          const res = await t.api('POST', '/api/connections/trace/exec', { key: requester.apiKey, body: { input: `UPDATE users SET status = 'trace${round}' WHERE id = 1` } });
          id = res.body.id;
          const dm = (await t.slack.waitFor((cs) => cs.some(isDm(id)))).find(isDm(id))!;
          phase = 'idle';
          // Let the post's own follow-up (slot checks, outbox delete) finish before the click.
          await new Promise((r) => setTimeout(r, 300));
          t0 = performance.now();
          phase = 'approve';
          mark('click');
          await t.slackPost(blockAction('UDBA', 'review.approve', JSON.stringify({ reviewId: id, group: 'dba-team' }), 'DDBA', dm.args.ts));
          mark('acked');
        })();
      });
      await done;
      rounds.push({ submitToPost: { ...count.submit }, clickToReply: { ...count.approve } });
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    phase = 'idle';
    await t.stop();
    await target.drop();
  }
  if (process.env.TRACE) console.log(timeline.join('\n'));
  const result = { bench: 'request-trace', date: new Date().toISOString(), rounds, note: 'state-database statements (pg) and Redis commands from submit to the DM posted, and from the Approve click to the thread reply; the sweep\'s periodic reads excluded' };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/request-trace.json', JSON.stringify(result, null, 2) + '\n');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
