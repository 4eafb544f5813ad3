// The pure rules of custom webhooks: which addresses are refused, which URLs are accepted, the
// retry schedule with its jitter, and the signature headers.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { MAX_ATTEMPTS, retryDelayMs, RETRY_DELAYS_SEC } from '../../src/notify/webhooks/schedule.js';
import { generateSecret, signatureHeaders } from '../../src/notify/webhooks/signing.js';
import { forbiddenAddressReason, parseWebhookUrl } from '../../src/notify/webhooks/ssrf.js';

describe('forbiddenAddressReason', () => {
  it.each([
    '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.254', '127.0.0.1', '127.255.0.1',
    '169.254.0.1', '169.254.169.254', '172.16.0.1', '172.31.255.255', '192.0.0.8', '192.0.2.1', '192.168.1.1', '198.18.0.1',
    '198.51.100.7', '203.0.113.9', '224.0.0.251', '239.255.255.250', '240.0.0.1', '255.255.255.255',
    '::', '::1', 'fc00::1', 'fd12:3456::1', 'fd00:ec2::254', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'fec0::1', 'ff02::1', 'ff05::1:3',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::127.0.0.1', '::a00:1',
    '64:ff9b::7f00:1', '64:ff9b::10.0.0.1', '2002:7f00:1::', '2002:a9fe:a9fe::1', '100::1', '2001:db8::1',
  ])('refuses %s', (ip) => {
    expect(forbiddenAddressReason(ip)).not.toBeNull();
  });

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '100.128.0.1', '100.63.255.255', '169.253.0.1', '192.169.0.1', '2606:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])('allows %s', (ip) => {
    expect(forbiddenAddressReason(ip)).toBeNull();
  });

  it('says what is wrong with a mapped address', () => {
    expect(forbiddenAddressReason('::ffff:10.0.0.1')).toBe('::ffff:10.0.0.1 carries the IPv4 address 10.0.0.1, a private, loopback, link-local or reserved one');
    expect(forbiddenAddressReason('::ffff:7f00:1')).toBe('::ffff:7f00:1 carries the IPv4 address 127.0.0.1, a private, loopback, link-local or reserved one');
    expect(forbiddenAddressReason('::1')).toBe('::1 is a loopback, unique-local, link-local, multicast or unspecified IPv6 address');
    expect(forbiddenAddressReason('not-an-ip')).toBe('not-an-ip is not an IP address');
  });
});

describe('parseWebhookUrl', () => {
  it.each([
    ['', /Give "url"/],
    [42, /Give "url"/],
    ['hooks.example.com/x', /is not a URL/],
    ['//hooks.example.com/x', /is not a URL/],
    ['gopher://hooks.example.com/', /not gopher/],
    ['javascript:alert(1)', /not javascript/],
    ['data:text/plain,hi', /not data/],
    ['https://a:b@hooks.example.com/', /credentials/],
    ['https://a@hooks.example.com/', /credentials/],
    ['https://hooks.example.com/#x', /fragment/],
    [`https://hooks.example.com/${'a'.repeat(2050)}`, /longer than 2048/],
  ])('refuses %#', (raw, message) => {
    expect(() => parseWebhookUrl(raw)).toThrow(message);
  });

  it('normalises the forms of an IPv4 address, so the check sees the address', () => {
    expect(parseWebhookUrl('http://2130706433/').hostname).toBe('127.0.0.1');
    expect(parseWebhookUrl('http://0x7f.1/').hostname).toBe('127.0.0.1');
    expect(parseWebhookUrl('http://017700000001/').hostname).toBe('127.0.0.1');
    expect(parseWebhookUrl('http://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]');
  });
});

describe('retryDelayMs', () => {
  it('follows 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h and stops after the eighth attempt', () => {
    expect(RETRY_DELAYS_SEC).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(MAX_ATTEMPTS).toBe(8);
    expect(RETRY_DELAYS_SEC.map((_, i) => retryDelayMs(i + 1, () => 0.5))).toEqual(RETRY_DELAYS_SEC.map((s) => s * 1000));
    expect(retryDelayMs(8)).toBeNull();
  });

  it('jitters by at most 10 % either way', () => {
    expect(retryDelayMs(1, () => 0)).toBe(4500);
    expect(retryDelayMs(1, () => 0.999999)).toBe(5500);
    expect(retryDelayMs(7, () => 0)).toBe(32_400_000);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(2)!;
      expect(d).toBeGreaterThanOrEqual(270_000);
      expect(d).toBeLessThanOrEqual(330_000);
    }
  });
});

describe('signatureHeaders', () => {
  it('signs so that each secret verifies on its own', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'review.created', data: { id: 1 } });
    const headers = signatureHeaders([a, b], 'msg_1', new Date(), body);
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(a).verify(body, headers)).toEqual({ type: 'review.created', data: { id: 1 } });
    expect(new Webhook(b).verify(body, headers)).toEqual({ type: 'review.created', data: { id: 1 } });
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow('No matching signature found');
    expect(() => new Webhook(a).verify(body + ' ', headers)).toThrow('No matching signature found');
  });
});

describe('WEBHOOK_ALLOW_PRIVATE', () => {
  it('is off unless set to true, and refuses anything but true and false', () => {
    expect(loadConfig({}).webhooks.allowPrivate).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate).toBe(true);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'false' }).webhooks.allowPrivate).toBe(false);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE/);
  });
});
