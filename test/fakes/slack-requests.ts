// Requests signed exactly as Slack signs them: v0=HMAC-SHA256(secret, `v0:${ts}:${body}`).
import { createHmac } from 'node:crypto';

export function signature(secret: string, timestamp: number, body: string): string {
  return 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** A form-encoded request body signed with `secret` at `timestamp` (seconds). */
export function signedForm(secret: string, fields: Record<string, string>, timestamp = Math.floor(Date.now() / 1000)): SignedRequest {
  const body = new URLSearchParams(fields).toString();
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature(secret, timestamp, body),
    },
  };
}

/** A JSON request body (the Events API) signed with `secret` at `timestamp` (seconds). */
export function signedJson(secret: string, payload: unknown, timestamp = Math.floor(Date.now() / 1000)): SignedRequest {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature(secret, timestamp, body),
    },
  };
}

let eventSequence = 0;

/** An Events API `event_callback` carrying `event`, as Slack posts it (JSON, with its envelope). */
export function eventCallback(event: Record<string, unknown>, teamId = 'T1'): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    token: 'deprecated-verification-token',
    team_id: teamId,
    api_app_id: 'A1',
    event: { event_ts: `${now}.${String(++eventSequence).padStart(6, '0')}`, ...event },
    type: 'event_callback',
    event_id: `Ev${Date.now()}${eventSequence}`,
    event_time: now,
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
}

/** `app_home_opened`: `userId` opened the app's Home tab (or its Messages tab, with tab 'messages'). */
export function appHomeOpened(userId: string, tab: 'home' | 'messages' = 'home', teamId = 'T1'): Record<string, unknown> {
  return eventCallback({ type: 'app_home_opened', user: userId, channel: `D${userId.slice(1)}`, tab }, teamId);
}

// Slack gives every command and click its own trigger_id: two requests are never the same bytes.
let sequence = 0;
const triggerId = () => `trigger-${Date.now()}-${++sequence}`;

/** A `/hoop` slash command as Slack sends it. */
export function slashCommand(userId: string, text: string, teamId = 'T1'): Record<string, string> {
  return {
    token: 'deprecated-verification-token',
    team_id: teamId,
    team_domain: 'acme',
    channel_id: 'C-REVIEWS',
    channel_name: 'db-reviews',
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: '/hoop',
    text,
    api_app_id: 'A1',
    response_url: 'https://hooks.slack.invalid/commands/T1/1/x',
    trigger_id: triggerId(),
  };
}

/** The fields every interactive payload carries: team, user, app, token, trigger. */
function interactionEnvelope(userId: string, teamId = 'T1') {
  return {
    team: { id: teamId, domain: 'acme' },
    user: { id: userId, username: userId.toLowerCase(), team_id: teamId },
    api_app_id: 'A1',
    token: 'deprecated-verification-token',
    trigger_id: triggerId(),
  };
}

/** A `block_actions` payload: `userId` clicked the button `actionId` carrying `value`. */
export function blockAction(userId: string, actionId: string, value: string, channel = 'C-REVIEWS', messageTs = '1700000000.000100', teamId = 'T1'): Record<string, string> {
  const payload = {
    type: 'block_actions',
    ...interactionEnvelope(userId, teamId),
    container: { type: 'message', message_ts: messageTs, channel_id: channel, is_ephemeral: false },
    channel: { id: channel, name: 'db-reviews' },
    message: { type: 'message', ts: messageTs, text: 'request' },
    response_url: 'https://hooks.slack.invalid/actions/T1/1/x',
    actions: [{ type: 'button', action_id: actionId, block_id: 'group', value, action_ts: String(Date.now() / 1000) }],
  };
  return { payload: JSON.stringify(payload) };
}

/** A `view_submission` of the reject modal with `reason`. */
export function rejectSubmission(userId: string, privateMetadata: string, reason: string | null, teamId = 'T1'): Record<string, string> {
  const payload = {
    type: 'view_submission',
    ...interactionEnvelope(userId, teamId),
    view: {
      id: 'V1',
      type: 'modal',
      callback_id: 'review.reject-modal',
      private_metadata: privateMetadata,
      state: { values: { reason: { value: { type: 'plain_text_input', value: reason } } } },
      hash: 'h1',
    },
  };
  return { payload: JSON.stringify(payload) };
}

/** A `view_submission` of the suggest modal (a correction) with the corrected command and a comment. */
export function suggestSubmission(userId: string, privateMetadata: string, input: string, comment: string | null, teamId = 'T1'): Record<string, string> {
  const payload = {
    type: 'view_submission',
    ...interactionEnvelope(userId, teamId),
    view: {
      id: 'V2',
      type: 'modal',
      callback_id: 'review.suggest-modal',
      private_metadata: privateMetadata,
      state: { values: { input: { value: { type: 'plain_text_input', value: input } }, reason: { value: { type: 'plain_text_input', value: comment } } } },
      hash: 'h2',
    },
  };
  return { payload: JSON.stringify(payload) };
}

/** A `block_actions` payload from a button of the Home tab (a view, not a message: no channel). */
export function homeBlockAction(userId: string, actionId: string, value: string, teamId = 'T1'): Record<string, string> {
  const payload = {
    type: 'block_actions',
    ...interactionEnvelope(userId, teamId),
    container: { type: 'view', view_id: `VHOME${userId}` },
    view: { id: `VHOME${userId}`, type: 'home', callback_id: 'hoop.home', private_metadata: '', blocks: [], state: { values: {} }, hash: '1' },
    actions: [{ type: 'button', action_id: actionId, block_id: 'home', value, action_ts: String(Date.now() / 1000) }],
  };
  return { payload: JSON.stringify(payload) };
}
