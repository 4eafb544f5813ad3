// A notice for the gateway's admins (a webhook endpoint disabled after a day of failures): a DM to
// every active admin who linked Slack. A retried job may DM an admin who already got it (there is
// no request to hang a slot on); notices are rare and say the same thing twice at worst.
import type { WebClient } from '@slack/web-api';
import type { Db } from '../../db/client.js';
import { slackCall } from './slack-jobs.js';

/** Sends `text` to each linked admin; a 429 stops the job (retried after Slack's Retry-After). */
export function createSlackAdminNotice({ db, client }: { db: Db; client: WebClient }) {
  return async function notifyAdmins(text: string): Promise<number> {
    const admins = await db.identity.findMany({ where: { provider: 'slack', user: { isAdmin: true, active: true } }, select: { externalId: true }, orderBy: { user: { email: 'asc' } } });
    // Slack's control sequences (<!channel>, <url|label>) never come from a notice's text: it may
    // quote what a receiver answered.
    const safe = text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
    for (const a of admins) await slackCall(() => client.chat.postMessage({ channel: a.externalId, text: safe, unfurl_links: false, unfurl_media: false }));
    return admins.length;
  };
}
