// Review finding (i10-review2): IPv6 forms that carry an IPv4 address the SSRF check does not
// unwrap. ssrf.ts unwraps mapped (::ffff:0:0/96), compatible, NAT64 (64:ff9b::/96) and 6to4, but
// not the IPv4-translated form of SIIT (::ffff:0:a.b.c.d, RFC 2765/6052) nor the local-use NAT64
// prefix 64:ff9b:1::/48 (RFC 8215), which a network with a translator routes to the IPv4 address
// exactly as it routes 64:ff9b::/96. Each of these names a private or metadata address.
import { describe, expect, it } from 'vitest';
import { checkDestination, forbiddenAddressReason, parseWebhookUrl } from '../../src/notify/webhooks/ssrf.js';

const CARRYING_PRIVATE = [
  '::ffff:0:7f00:1', // SIIT: 127.0.0.1
  '::ffff:0:a9fe:a9fe', // SIIT: 169.254.169.254
  '::ffff:0:10.0.0.1', // SIIT, dotted: 10.0.0.1
  '64:ff9b:1::a9fe:a9fe', // local-use NAT64 (/96 inside the /48): 169.254.169.254
  '64:ff9b:1::10.0.0.1', // local-use NAT64, dotted: 10.0.0.1
  '64:ff9b:1:0:0:0:c0a8:101', // local-use NAT64 spelled out: 192.168.1.1
];

describe('an IPv6 address that carries a private IPv4 address', () => {
  it.each(CARRYING_PRIVATE)('is refused as a destination: %s', (ip) => {
    expect(forbiddenAddressReason(ip)).not.toBeNull();
  });

  it.each(CARRYING_PRIVATE)('is refused when saved as a literal: http://[%s]/', async (ip) => {
    await expect(checkDestination(parseWebhookUrl(`http://[${ip}]/`), { allowPrivate: false })).rejects.toThrow(/refused/);
  });

  it.each(CARRYING_PRIVATE)('is refused when a name resolves to it beside a public address: %s', async (ip) => {
    const resolve = async () => [{ address: '93.184.216.34', family: 4 }, { address: ip, family: 6 }];
    await expect(checkDestination(parseWebhookUrl('https://hooks.example.com/x'), { allowPrivate: false, resolve })).rejects.toThrow(/refused/);
  });

  it.each(['::ffff:0:808:808', '64:ff9b::808:808'])('still allows the translated forms carrying a public address: %s', (ip) => {
    expect(forbiddenAddressReason(ip)).toBeNull();
  });
});
