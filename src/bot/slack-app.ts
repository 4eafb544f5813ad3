// The Bolt app: `/hoop` commands, the Approve/Reject buttons and the reject modal. It turns Slack
// payloads into the same service calls the API makes; the rules live in src/core and the services.
import { App, LogLevel, type BlockAction, type ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { SlackIds } from '../db/audit.js';
import { isDatabaseBusy } from '../db/database-busy.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AdminService } from '../service/admin-service.js';
import type { ReviewService, VoteInput } from '../service/review-service.js';
import type { HomeView } from './home-blocks.js';
import { registerHoopCommand } from './hoop-command.js';
import { rejectModal, type RejectModalMeta } from './reject-modal.js';
import { suggestModal, type AcceptButtonValue, type SuggestModalMeta } from './suggest-modal.js';
import { ACCEPT_ACTION, APPROVE_ACTION, REJECT_ACTION, REJECT_MODAL, REVOKE_ACTION, SUGGEST_ACTION, SUGGEST_MODAL, type ButtonValue, type RevokeButtonValue } from './review-blocks.js';
import { interactionIds, slackCtx } from './slack-context.js';
import { cutText, fitFallbackText } from './slack-limits.js';
import { GatewaySlackReceiver } from './slack-receiver.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string;
  apiUrl?: string;
  botId?: string;
  botUserId?: string;
  /** The workspace the app is installed in; learned from auth.test when absent. */
  teamId?: string;
  admin: AdminService;
  reviews: ReviewService;
  log: Logger;
  /** Shared memory of seen request signatures (replay protection across replicas). */
  firstSeen?: (signature: string, ttlSec: number) => Promise<boolean>;
  /** The Home tab of a Slack user, as views.publish takes it (absent: the Home tab is not served). */
  homeView?: (slackUserId: string) => Promise<HomeView>;
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

function parseRevokeButton(value: string | undefined): RevokeButtonValue {
  try {
    const v = JSON.parse(value ?? '') as RevokeButtonValue;
    if (typeof v.reviewId === 'string') return v;
  } catch {
    // fall through
  }
  throw new AppError(ErrorCode.BadInput, 'This button is not one of hoop\'s; nothing was changed.');
}

/**
 * What a person is told when their click or form failed: the coded error's words, that nothing was
 * recorded because our database is unavailable (vote() throws that only when nothing was
 * committed), or, for a defect (logged by the caller), that it may not have been recorded.
 */
function clickFailureText(error: unknown, what: string): string {
  if (isAppError(error)) return error.userMessage;
  if (isDatabaseBusy(error)) return `Your ${what} was not recorded: the gateway's database is unavailable just now. Try again in a minute.`;
  return `Your ${what} may not have been recorded: the gateway failed (it is logged). Look at the request (\`hoop get review ID\`) before trying again.`;
}

/** Caches one successful auth.test, so a Slack outage at start-up does not stop the gateway. */
function lazyAuthTest(client: () => WebClient, token: string) {
  let identity: Promise<{ botId?: string; botUserId?: string; teamId?: string }> | undefined;
  return () => {
    identity ??= client()
      .auth.test({ token })
      .then((r) => ({ botId: r.bot_id as string | undefined, botUserId: r.user_id as string | undefined, teamId: r.team_id as string | undefined }))
      .catch((error) => {
        identity = undefined;
        throw error;
      });
    return identity;
  };
}

/** The workspace a request comes from, read as Bolt reads it (slash commands carry `team_id`). */
function requestTeamId(body: Record<string, any>): string | undefined {
  if (typeof body.team_id === 'string') return body.team_id;
  return body.team?.id ?? body.user?.team_id ?? undefined;
}

/** Creates the Bolt app and the receiver the gateway's HTTP server hands Slack requests to. */
export function createSlackApp(opts: SlackAppOptions): { app: App; receiver: GatewaySlackReceiver } {
  const { admin, reviews, log } = opts;
  const receiver = new GatewaySlackReceiver({ signingSecret: opts.signingSecret, log, firstSeen: opts.firstSeen });
  let app!: App;
  const authTest = lazyAuthTest(() => app.client, opts.botToken);
  const installedTeam = async (): Promise<string> => {
    if (opts.teamId) return opts.teamId;
    const { teamId } = await authTest();
    if (!teamId) throw new Error('auth.test answered without team_id; set SLACK_TEAM_ID');
    return teamId;
  };
  app = new App({
    receiver,
    authorize: async () => {
      if (opts.botId && opts.botUserId) return { botToken: opts.botToken, botId: opts.botId, botUserId: opts.botUserId };
      const { botId, botUserId } = await authTest();
      return { botToken: opts.botToken, botId, botUserId };
    },
    clientOptions: { slackApiUrl: opts.apiUrl, retryConfig: { retries: 2, factor: 1.5, minTimeout: 200, maxTimeout: 1000 } },
    logLevel: LogLevel.WARN,
  });

  const tellUser = async (client: WebClient, channel: string | undefined, user: string, text: string) => {
    try {
      const cut = fitFallbackText(text);
      if (channel) await client.chat.postEphemeral({ channel, user, text: cut });
      else await client.chat.postMessage({ channel: user, text: cut });
    } catch (error) {
      log.warn({ err: error, user }, 'could not tell a Slack user why their action was refused');
    }
  };

  // Only the workspace the app is installed in may use it: commands, clicks and modals alike.
  app.use(async (args) => {
    const body = args.body as Record<string, any>;
    const teamId = requestTeamId(body);
    // Global middleware sees every kind of request; those that expect an answer carry `ack`.
    const ack = (args as Partial<{ ack: (response?: unknown) => Promise<void> }>).ack;
    const refuse = async (text: string) => {
      if (!ack) return;
      if (body.command) await ack({ response_type: 'ephemeral', text });
      else if (body.type === 'view_submission') await ack({ response_action: 'errors', errors: { reason: text } });
      else await ack();
    };
    let installed: string;
    try {
      installed = await installedTeam();
    } catch (error) {
      log.warn({ err: error }, 'could not learn the installed Slack workspace (auth.test); refused the request');
      return refuse('hoop could not check your Slack workspace just now; nothing was done. Try again in a minute.');
    }
    if (teamId === installed) return args.next();
    const slackUserId: string = body.user_id ?? body.user?.id ?? 'unknown';
    log.warn({ teamId: teamId ?? null, installed, slackUserId }, 'refused a Slack request from another workspace');
    await admin
      .recordSlackRefusal('slack.other_workspace_refused', slackCtx({ userId: slackUserId, teamId: teamId ?? null, channelId: body.channel_id ?? body.channel?.id ?? null }, undefined, args.context), { teamId: teamId ?? null, installedTeamId: installed, kind: body.command ? 'command' : String(body.type ?? 'unknown') })
      .catch((err) => log.error({ err }, 'could not audit a refused Slack request'));
    return refuse('This hoop gateway is installed in another Slack workspace, so it does not act on requests from yours; nothing was done. Ask your hoop admin which workspace to use.');
  });

  registerHoopCommand(app, { admin, log, installedTeam });

  /** The hoop user behind a click; a clicker who is none (not linked, deactivated) is refused, and that refusal is audited. */
  const voterOf = async (ids: SlackIds, reviewId: string, input: VoteInput, context: Record<string, unknown>) => {
    try {
      return await admin.userBySlackId(ids.userId);
    } catch (error) {
      return reviews.refuseVote(error, reviewId, input, slackCtx(ids, undefined, context));
    }
  };

  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, async ({ ack, body, action, client, context }) => {
    await ack();
    const channel = body.channel?.id;
    try {
      const { reviewId, group } = parseButton(action.value);
      const ids = interactionIds(body, channel);
      const user = await voterOf(ids, reviewId, { action: 'approve', group }, context);
      await reviews.vote(user, reviewId, { action: 'approve', group }, slackCtx(ids, user, context));
    } catch (error) {
      // Slack was answered already: the person hears of a failure only from us.
      if (!isAppError(error)) log.error({ err: error }, 'an approval from Slack failed');
      await tellUser(client, channel, body.user.id, `:warning: ${clickFailureText(error, 'approval')}`);
    }
  });

  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, async ({ ack, body, action, client, context }) => {
    await ack();
    const channel = body.channel?.id;
    let view: ReturnType<typeof rejectModal>;
    try {
      const { reviewId, group } = parseButton(action.value);
      const ids = interactionIds(body, channel);
      const user = await voterOf(ids, reviewId, { action: 'reject', group }, context);
      // Exactly the checks (and words) of the rejection itself, before a modal is opened for nothing.
      const review = await reviews.previewVote(user, reviewId, { action: 'reject', group }, slackCtx(ids, user, context));
      const meta: RejectModalMeta = { reviewId, group, channel };
      view = rejectModal(meta, { connection: review.connection.name, requester: review.requester.email, kind: review.kind === 'access' ? 'access' : 'command' });
    } catch (error) {
      if (!isAppError(error)) log.error({ err: error }, 'the Reject button failed');
      return tellUser(client, channel, body.user.id, `:warning: ${clickFailureText(error, 'rejection')}`);
    }
    try {
      await client.views.open({ trigger_id: body.trigger_id, view });
    } catch (error) {
      log.warn({ err: error }, 'views.open failed for the reject modal');
      await tellUser(client, channel, body.user.id, ':warning: Slack did not open the reject form; nothing was changed. Press Reject again, or use `hoop review reject ID --reason R`.');
    }
  });

  app.view(REJECT_MODAL, async ({ ack, view, body, context }) => {
    let meta: RejectModalMeta;
    try {
      meta = JSON.parse(view.private_metadata) as RejectModalMeta;
    } catch {
      return ack({ response_action: 'errors', errors: { reason: 'This form is not one of hoop\'s; nothing was changed.' } });
    }
    const reason = view.state.values.reason?.value?.value ?? undefined;
    try {
      // A modal has no channel of its own: the one its Reject button was clicked in, kept in its metadata.
      const ids = interactionIds(body, meta.channel);
      const user = await voterOf(ids, meta.reviewId, { action: 'reject', group: meta.group }, context);
      await reviews.vote(user, meta.reviewId, { action: 'reject', group: meta.group, reason: reason ?? undefined }, slackCtx(ids, user, context));
      await ack();
    } catch (error) {
      // Not yet acked: the form stays open with the reason, and the person can submit it again.
      if (!isAppError(error)) log.error({ err: error }, 'a rejection from Slack failed');
      await ack({ response_action: 'errors', errors: { reason: cutText(clickFailureText(error, 'rejection'), 300) } });
    }
  });

  // Suggest a change (corrections, issue 14): refused exactly as the suggestion would be, before a
  // modal is opened for nothing; the modal's submission makes the correction.
  app.action<BlockAction<ButtonAction>>(SUGGEST_ACTION, async ({ ack, body, action, client, context }) => {
    await ack();
    const channel = body.channel?.id;
    let view: NonNullable<ReturnType<typeof suggestModal>> | null;
    let reviewId = '';
    try {
      const button = parseButton(action.value);
      reviewId = button.reviewId;
      const ids = interactionIds(body, channel);
      const user = await admin.userBySlackId(ids.userId).catch((error: unknown) => reviews.refuseCorrection(error, button.reviewId, slackCtx(ids, undefined, context), 'suggest'));
      const review = await reviews.previewSuggest(user, button.reviewId, button.group, slackCtx(ids, user, context));
      const meta: SuggestModalMeta = { reviewId: button.reviewId, group: button.group, channel };
      view = suggestModal(meta, { connection: review.connection.name, requester: review.requester.email, input: review.input });
    } catch (error) {
      if (!isAppError(error)) log.error({ err: error }, 'the Suggest a change button failed');
      return tellUser(client, channel, body.user.id, `:warning: ${clickFailureText(error, 'suggestion')}`);
    }
    if (!view) return tellUser(client, channel, body.user.id, `:warning: This command is too long to edit in Slack. Suggest the change with \`hoop review suggest ${reviewId} --file FILE --comment TEXT\` or in the web app.`);
    try {
      await client.views.open({ trigger_id: body.trigger_id, view });
    } catch (error) {
      log.warn({ err: error }, 'views.open failed for the suggest modal');
      await tellUser(client, channel, body.user.id, ':warning: Slack did not open the form; nothing was changed. Press Suggest a change again, or use `hoop review suggest ID`.');
    }
  });

  app.view(SUGGEST_MODAL, async ({ ack, view, body, context }) => {
    let meta: SuggestModalMeta;
    try {
      meta = JSON.parse(view.private_metadata) as SuggestModalMeta;
    } catch {
      return ack({ response_action: 'errors', errors: { reason: 'This form is not one of hoop\'s; nothing was changed.' } });
    }
    const input = view.state.values.input?.value?.value ?? '';
    const comment = view.state.values.reason?.value?.value ?? '';
    try {
      const ids = interactionIds(body, meta.channel);
      const user = await admin.userBySlackId(ids.userId).catch((error: unknown) => reviews.refuseCorrection(error, meta.reviewId, slackCtx(ids, undefined, context), 'suggest'));
      await reviews.suggest(user, meta.reviewId, { input, comment, group: meta.group }, slackCtx(ids, user, context));
      await ack();
    } catch (error) {
      // Not yet acked: the form stays open with what was typed, and the person can fix it.
      if (!isAppError(error)) log.error({ err: error }, 'a suggested change from Slack failed');
      await ack({ response_action: 'errors', errors: { reason: cutText(clickFailureText(error, 'suggestion'), 300) } });
    }
  });

  // Accept change: only the requester of the correction; a refusal is audited and told.
  app.action<BlockAction<ButtonAction>>(ACCEPT_ACTION, async ({ ack, body, action, client, context }) => {
    await ack();
    const channel = body.channel?.id;
    try {
      const { reviewId } = parseRevokeButton(action.value) as AcceptButtonValue;
      const ids = interactionIds(body, channel);
      const user = await admin.userBySlackId(ids.userId).catch((error: unknown) => reviews.refuseCorrection(error, reviewId, slackCtx(ids, undefined, context), 'accept'));
      await reviews.acceptCorrection(user, reviewId, slackCtx(ids, user, context));
      await tellUser(client, channel, body.user.id, ':white_check_mark: You accepted the change; it runs once every reviewer group has approved it.');
    } catch (error) {
      if (!isAppError(error)) log.error({ err: error }, 'an acceptance from Slack failed');
      await tellUser(client, channel, body.user.id, `:warning: ${clickFailureText(error, 'acceptance')}`);
    }
  });

  // Revoke access (Just-in-Time access): the revoke use case as the clicker, with the Approve
  // button's identity mapping; a refusal (not linked, an agent, not a reviewer) is audited and told.
  app.action<BlockAction<ButtonAction>>(REVOKE_ACTION, async ({ ack, body, action, client, context }) => {
    await ack();
    const channel = body.channel?.id;
    let reviewId: string | undefined;
    try {
      reviewId = parseRevokeButton(action.value).reviewId;
      const id = reviewId;
      const ids = interactionIds(body, channel);
      const user = await admin.userBySlackId(ids.userId).catch((error: unknown) => reviews.refuseRevoke(error, id, slackCtx(ids, undefined, context)));
      await reviews.revokeAccess(user, reviewId, slackCtx(ids, user, context));
    } catch (error) {
      if (!isAppError(error)) log.error({ err: error, reviewId }, 'a revocation from Slack failed');
      await tellUser(client, channel, body.user.id, `:warning: ${clickFailureText(error, 'revocation')}`);
    }
  });

  // The Home tab: published afresh each time it is opened (the jobs keep it current while it is).
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home' || !opts.homeView) return;
    try {
      await client.views.publish({ user_id: event.user, view: (await opts.homeView(event.user)) as never });
    } catch (error) {
      log.warn({ err: error, user: event.user }, 'could not publish a Home tab');
    }
  });

  app.error(async (error) => {
    log.error({ err: error }, 'Slack listener error');
  });

  return { app, receiver };
}
