import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GatewaySlackReceiver } from '../../src/bot/slack-receiver.js';
import { signature } from '../fakes/slack-requests.js';

const secret = 'secret-for-unit-tests';
const now = 1_800_000_000_000;
const receiver = new GatewaySlackReceiver({ signingSecret: secret, log: pino({ level: 'silent' }), now: () => now });
const body = 'command=%2Fhoop&text=help';

function headers(ts: number, sig = signature(secret, ts, body)) {
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig, 'content-type': 'application/x-www-form-urlencoded' };
}

describe('GatewaySlackReceiver.verify', () => {
  const nowSec = now / 1000;

  it('accepts a request signed with the secret within five minutes either way', () => {
    expect(receiver.verify({ rawBody: body, headers: headers(nowSec) })).toBeNull();
    expect(receiver.verify({ rawBody: body, headers: headers(nowSec - 299) })).toBeNull();
    expect(receiver.verify({ rawBody: body, headers: headers(nowSec + 299) })).toBeNull();
  });

  it('refuses a timestamp more than five minutes in the past or in the future', () => {
    expect(receiver.verify({ rawBody: body, headers: headers(nowSec - 301) })).toMatch(/5 minutes/);
    expect(receiver.verify({ rawBody: body, headers: headers(nowSec + 301) })).toMatch(/5 minutes/);
  });

  it('refuses a wrong signature, a tampered body and missing headers', () => {
    expect(receiver.verify({ rawBody: body, headers: headers(nowSec, signature('other', nowSec, body)) })).not.toBeNull();
    expect(receiver.verify({ rawBody: body + '&x=1', headers: headers(nowSec) })).not.toBeNull();
    expect(receiver.verify({ rawBody: body, headers: {} })).toMatch(/missing/);
  });

  it('answers Slack\'s url_verification challenge once the signature is good', async () => {
    const json = JSON.stringify({ type: 'url_verification', challenge: 'abc' });
    const res = await receiver.handle({ rawBody: json, headers: { ...headers(nowSec, signature(secret, nowSec, json)), 'content-type': 'application/json' } });
    expect(res).toMatchObject({ status: 200, body: '{"challenge":"abc"}' });
  });
});

describe('GatewaySlackReceiver replay protection', () => {
  /** An in-memory stand-in for the Redis SET NX EX the gateway injects, on the test's clock. */
  function setup() {
    let clock = now;
    const seen = new Map<string, number>();
    const processed: unknown[] = [];
    const firstSeen = async (signature: string, ttlSec: number) => {
      const until = seen.get(signature);
      if (until !== undefined && until > clock) return false;
      seen.set(signature, clock + ttlSec * 1000);
      return true;
    };
    const r = new GatewaySlackReceiver({ signingSecret: secret, log: pino({ level: 'silent' }), now: () => clock, firstSeen });
    r.init({ processEvent: async (event: { body: unknown; ack: () => Promise<void> }) => { processed.push(event.body); await event.ack(); } } as never);
    return { r, processed, advance: (ms: number) => (clock += ms), seen };
  }
  const request = (ts: number) => ({ rawBody: body, headers: headers(ts) });

  it('processes a signed request once and answers its replays with an empty 200, processing nothing', async () => {
    const { r, processed, advance } = setup();
    const ts = now / 1000;
    expect((await r.handle(request(ts))).status).toBe(200);
    advance(1000);
    const again = await r.handle(request(ts));
    expect(again).toMatchObject({ status: 200, body: '' });
    advance(200_000);
    expect((await r.handle(request(ts))).status).toBe(200);
    expect(processed).toHaveLength(1);
  });

  it('refuses a replay after the window by its timestamp, even once the memory of it expired', async () => {
    const { r, processed, advance, seen } = setup();
    const ts = now / 1000;
    await r.handle(request(ts));
    advance(301_000);
    seen.clear();
    expect((await r.handle(request(ts))).status).toBe(401);
    expect(processed).toHaveLength(1);
  });

  it('remembers a signature for both sides of the window', async () => {
    const ttls: number[] = [];
    const r = new GatewaySlackReceiver({ signingSecret: secret, log: pino({ level: 'silent' }), now: () => now, firstSeen: async (_s, ttl) => (ttls.push(ttl), true) });
    r.init({ processEvent: async (e: { ack: () => Promise<void> }) => e.ack() } as never);
    await r.handle(request(now / 1000 + 299));
    expect(ttls[0]).toBe(660); // both sides of the 5-minute window, and a minute more
  });

  it('does not remember forged requests, and refuses everything when the memory is unreachable', async () => {
    const offered: string[] = [];
    const r = new GatewaySlackReceiver({ signingSecret: secret, log: pino({ level: 'silent' }), now: () => now, firstSeen: async (s) => (offered.push(s), true) });
    await r.handle({ rawBody: body, headers: headers(now / 1000, signature('forged', now / 1000, body)) });
    expect(offered).toEqual([]);
    const down = new GatewaySlackReceiver({ signingSecret: secret, log: pino({ level: 'silent' }), now: () => now, firstSeen: async () => { throw new Error('redis down'); } });
    expect((await down.handle(request(now / 1000))).status).toBe(503);
  });
});
