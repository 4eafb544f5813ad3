// The Bolt app: `/hoop` commands, the Approve/Reject buttons and the reject modal. It turns Slack
// payloads into the same service calls the API makes; the rules live in src/core.
import { App, LogLevel, type BlockAction, type ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { decide } from '../core/review-state.js';
import type { AuditContext } from '../db/audit.js';
import { toReviewState } from '../db/reviews.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AdminService } from '../service/admin-service.js';
import type { ReviewService } from '../service/review-service.js';
import { rejectModal } from './reject-modal.js';
import { APPROVE_ACTION, REJECT_ACTION, REJECT_MODAL, type ButtonValue } from './review-blocks.js';
import { cutText } from './slack-limits.js';
import { GatewaySlackReceiver } from './slack-receiver.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string;
  apiUrl?: string;
  botId?: string;
  botUserId?: string;
  admin: AdminService;
  reviews: ReviewService;
  log: Logger;
}

const HELP = [
  '*hoop* — approvals for production database commands.',
  '• `/hoop subscribe` — link your Slack account to your hoop user (same email) to receive and decide requests.',
  '• `/hoop unsubscribe` — stop receiving requests here.',
  '• `/hoop help` — this message.',
  'Requests arrive as messages with *Approve* and *Reject* buttons, one pair per reviewer group.',
].join('\n');

interface Meta {
  reviewId: string;
  group: string;
  channel?: string;
}

function parseButton(value: string | undefined): ButtonValue {
  try {
    const v = JSON.parse(value ?? '') as ButtonValue;
    if (typeof v.reviewId === 'string' && typeof v.group === 'string') return v;
  } catch {
    // fall through
  }
  throw new AppError(ErrorCode.BadInput, 'This button is not one of hoop\'s; nothing was changed.');
}

function slackCtx(slackUserId: string, user?: { id: string; email: string }, custom?: Record<string, unknown>): AuditContext {
  return {
    actorId: user?.id ?? null,
    actor: user?.email ?? `slack:${slackUserId}`,
    source: 'slack',
    ip: (custom?.ip as string) ?? null,
    userAgent: (custom?.userAgent as string) ?? null,
  };
}

/** Looks up the bot identity once, lazily, so a Slack outage at start-up does not stop the gateway. */
function lazyAuthorize(opts: SlackAppOptions, client: () => WebClient) {
  let identity: Promise<{ botId?: string; botUserId?: string }> | undefined;
  return async () => {
    if (opts.botId && opts.botUserId) return { botToken: opts.botToken, botId: opts.botId, botUserId: opts.botUserId };
    identity ??= client()
      .auth.test({ token: opts.botToken })
      .then((r) => ({ botId: r.bot_id as string | undefined, botUserId: r.user_id as string | undefined }))
      .catch((error) => {
        identity = undefined;
        throw error;
      });
    return { botToken: opts.botToken, ...(await identity) };
  };
}

/** Creates the Bolt app and the receiver the gateway's HTTP server hands Slack requests to. */
export function createSlackApp(opts: SlackAppOptions): { app: App; receiver: GatewaySlackReceiver } {
  const { admin, reviews, log } = opts;
  const receiver = new GatewaySlackReceiver({ signingSecret: opts.signingSecret, log });
  let app!: App;
  app = new App({
    receiver,
    authorize: lazyAuthorize(opts, () => app.client),
    clientOptions: { slackApiUrl: opts.apiUrl, retryConfig: { retries: 2, factor: 1.5, minTimeout: 200, maxTimeout: 1000 } },
    logLevel: LogLevel.WARN,
  });

  const tellUser = async (client: WebClient, channel: string | undefined, user: string, text: string) => {
    try {
      const cut = cutText(text, 3000);
      if (channel) await client.chat.postEphemeral({ channel, user, text: cut });
      else await client.chat.postMessage({ channel: user, text: cut });
    } catch (error) {
      log.warn({ err: error, user }, 'could not tell a Slack user why their action was refused');
    }
  };

  app.command('/hoop', async ({ command, ack, client, context }) => {
    const [sub = 'help'] = command.text.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const ctx = slackCtx(command.user_id, undefined, context);
    const reply = (text: string) => ack({ response_type: 'ephemeral', text });
    if (sub === 'help') return reply(HELP);
    if (sub === 'unsubscribe') {
      const done = await admin.unlinkSlackUser(command.user_id, ctx);
      return reply(done ? 'Unsubscribed: you will no longer receive hoop requests here. `/hoop subscribe` links you again.' : 'You were not subscribed.');
    }
    if (sub !== 'subscribe') return reply(`Unknown command \`${sub}\`. Try \`/hoop help\`.`);
    let email: string | undefined;
    try {
      const info = await client.users.info({ user: command.user_id });
      email = info.user?.profile?.email;
    } catch (error) {
      log.warn({ err: error }, 'users.info failed during /hoop subscribe');
      return reply('Could not read your Slack profile just now; nothing was changed. Try `/hoop subscribe` again in a minute.');
    }
    try {
      const user = await admin.linkSlackUser(command.user_id, email, ctx);
      const groups = user.groups.length ? user.groups.join(', ') : 'no groups yet';
      return reply(`Subscribed as *${user.email}* (${groups}). Requests for your groups will arrive here with Approve and Reject buttons.`);
    } catch (error) {
      if (isAppError(error)) return reply(error.userMessage);
      throw error;
    }
  });

  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, async ({ ack, body, action, client, context }) => {
    await ack();
    const channel = body.channel?.id;
    try {
      const { reviewId, group } = parseButton(action.value);
      const user = await admin.userBySlackId(body.user.id);
      await reviews.vote(user, reviewId, { action: 'approve', group }, slackCtx(body.user.id, user, context));
    } catch (error) {
      if (!isAppError(error)) throw error;
      await tellUser(client, channel, body.user.id, `:warning: ${error.userMessage}`);
    }
  });

  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id;
    try {
      const { reviewId, group } = parseButton(action.value);
      const user = await admin.userBySlackId(body.user.id);
      const review = await reviews.load(reviewId);
      // The same rules as the rejection itself, checked before a modal is opened for nothing.
      decide(toReviewState(review), { action: 'reject', actor: { userId: user.id, isAdmin: user.isAdmin, groups: user.groups }, group }, new Date());
      const meta: Meta = { reviewId, group, channel };
      await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(meta, { connection: review.connection.name, requester: review.requester.email }) });
    } catch (error) {
      if (!isAppError(error)) throw error;
      await tellUser(client, channel, body.user.id, `:warning: ${error.userMessage}`);
    }
  });

  app.view(REJECT_MODAL, async ({ ack, view, body, context }) => {
    let meta: Meta;
    try {
      meta = JSON.parse(view.private_metadata) as Meta;
    } catch {
      return ack({ response_action: 'errors', errors: { reason: 'This form is not one of hoop\'s; nothing was changed.' } });
    }
    const reason = view.state.values.reason?.value?.value ?? undefined;
    try {
      const user = await admin.userBySlackId(body.user.id);
      await reviews.vote(user, meta.reviewId, { action: 'reject', group: meta.group, reason: reason ?? undefined }, slackCtx(body.user.id, user, context));
      await ack();
    } catch (error) {
      if (!isAppError(error)) throw error;
      await ack({ response_action: 'errors', errors: { reason: cutText(error.userMessage, 300) } });
    }
  });

  app.error(async (error) => {
    log.error({ err: error }, 'Slack listener error');
  });

  return { app, receiver };
}
