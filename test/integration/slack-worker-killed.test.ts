// A worker process killed (SIGKILL) after Slack posted a message and before the message's row was
// completed: the message stays the only one, is adopted by the repair in another process, and
// ends in the final state with its thread reply. Each case runs in its own database, queue prefix
// and fake Slack, with a real worker child process (`src/main.ts --workers-only`).
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slashCommand } from '../fakes/slack-requests.js';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { createStateDatabase, createTargetDatabase, uniqueName } from '../helpers/databases.js';
import { deleteQueues, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanTally, tallySlack } from '../helpers/slack-tally.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<unknown>)[] = [];
const env = { SLACK_TIMEOUT_MS: '1000' };

interface Case {
  slack: FakeSlack;
  state: Awaited<ReturnType<typeof createStateDatabase>>;
  prefix: string;
  api: TestGateway;
  alice: { apiKey: string };
  dana: { apiKey: string };
}

/** A fake Slack, a state database, a queue prefix and an API-only gateway of one case. */
async function setUpCase(): Promise<Case> {
  const slack = await startFakeSlack();
  cleanups.push(() => slack.close());
  const state = await createStateDatabase();
  cleanups.push(() => state.drop());
  const target = await createTargetDatabase();
  cleanups.push(() => target.drop());
  const prefix = uniqueName('kill');
  cleanups.push(() => deleteQueues(prefix));
  // The API and Slack's requests only: the worker processes below do every job.
  const api = await startTestGateway({ databaseUrl: state.url, prefix, fakeSlack: slack, workers: false, env });
  cleanups.push(() => api.stop());
  const alice = await api.createUser('alice@example.com', ['developers']);
  const dana = await api.createUser('dana@example.com', ['dba-team']);
  await api.api('POST', '/api/connections', { body: { name: 'pg', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  for (const [id, email] of [['UALICE', 'alice@example.com'], ['UDANA', 'dana@example.com']]) {
    slack.users.set(id, { email });
    expect((await api.slackPost(slashCommand(id, 'subscribe'))).status).toBe(200);
  }
  return { slack, state, prefix, api, alice, dana };
}

// One case per test, set up before them: the tests then run at once.
let cases: Case[] = [];
beforeAll(async () => {
  const started = await Promise.allSettled([setUpCase(), setUpCase()]);
  cases = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}, 60_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** A worker-only gateway as its own process; resolves once its start-up sweep is done. */
async function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/gateway.mjs', '--workers-only'], {
    env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('start-up sweep done')) (clearTimeout(timer), resolve());
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${out}`)));
  });
  return child;
}

/**
 * Runs one review through a worker process that is killed the moment it posts the message that
 * `kills` selects (Slack stores it and never answers), then lets a second gateway (workers and
 * sweep) finish, and checks the tally of Slack.
 */
async function killedWhilePosting(c: Case, kills: (args: Record<string, any>) => boolean, approve: 'before the kill' | 'after the kill') {
  const { slack, state, prefix, api, alice, dana } = c;
  const worker = await startWorkerProcess(api.env);
  const died = new Promise((resolve) => worker.on('exit', resolve));
  slack.failNext('chat.postMessage', { act: true, delayMs: 60_000, match: kills, label: 'kill' });
  slack.onCall((call) => {
    if (call.method === 'chat.postMessage' && kills(call.args) && worker.exitCode === null) worker.kill('SIGKILL');
  });
  const sub = await api.api('POST', '/api/connections/pg/exec', { key: alice.apiKey, body: { input: 'SELECT 1 AS one', reason: 'killed worker' } });
  expect(sub.status).toBe(201);
  const id = sub.body.id as string;
  const approval = async () => expect((await api.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey })).status).toBe(200);
  if (approve === 'before the kill') await approval();
  await died;
  if (approve === 'after the kill') await approval();
  const killedAt = Date.now();
  // The message was posted, and its process is gone before it could record it.
  expect(slack.unusedFailures()).toEqual([]);

  // Another process takes over: its sweep finds the unfinished post, its repair finds the
  // message in Slack and adopts it.
  const rescuer = await startTestGateway({ databaseUrl: state.url, prefix, fakeSlack: slack, sweepIntervalMs: 500, env });
  try {
    return await finishes(c, rescuer, id, killedAt);
  } finally {
    await rescuer.stop();
  }
}

async function finishes({ slack, api }: Case, rescuer: TestGateway, id: string, killedAt: number): Promise<number> {
  await eventually(async () => (await api.api('GET', `/api/reviews/${id}`)).body.status === 'EXECUTED', 20_000, 'the run');
  const expected = cleanTally(['C-REVIEWS', 'DDANA']);
  const tally = () => tallySlack(slack, id, 'DALICE', 'Approved and executed');
  for (const deadline = Date.now() + 20_000; Date.now() < deadline && JSON.stringify(tally()) !== JSON.stringify(expected); ) await sleep(50);
  const recoveredMs = Date.now() - killedAt;
  const settled = tally();
  await sleep(2000);
  expect(settled).toEqual(expected);
  expect(tally()).toEqual(expected);
  const rows = await rescuer.gateway.db.channelMessage.findMany({ where: { channel: 'slack', reviewId: id } });
  expect(rows.every((r) => r.status === 'posted')).toBe(true);
  return recoveredMs;
}

describe.concurrent('a worker process killed between chat.postMessage and the row that records it', () => {
  it('leaves one request message, adopted and brought to its final state by another process', async () => {
    const ms = await killedWhilePosting(cases[0], (a) => a.channel === 'C-REVIEWS' && !a.thread_ts, 'after the kill');
    console.log(`request message recovered ${ms} ms after the kill`);
  }, 45_000);

  it('leaves one thread reply, adopted by another process', async () => {
    // The worker runs the command, then dies posting its result.
    const ms = await killedWhilePosting(cases[1], (a) => a.channel === 'C-REVIEWS' && Boolean(a.thread_ts), 'before the kill');
    console.log(`thread reply recovered ${ms} ms after the kill`);
  }, 45_000);
});
