// Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`
// and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, through the
// `standardwebhooks` package so any receiver library verifies what we send. During a rotation the
// header carries one signature per valid secret, space-separated, as the specification allows.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A new signing secret: `whsec_` and 32 random bytes in base64 (the specification's format). */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The message id of a delivery: the same on every attempt and replay of it, so receivers can deduplicate. */
export function messageId(deliveryId: string): string {
  return `msg_${deliveryId}`;
}

/** The three signature headers of `body`, signed with each of `secrets`. */
export function signatureHeaders(secrets: readonly string[], id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(id, at, body)).join(' '),
  };
}
