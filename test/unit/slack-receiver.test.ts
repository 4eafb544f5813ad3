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
