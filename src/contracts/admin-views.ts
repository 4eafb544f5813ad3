// What the API shows of users, API keys, webhook endpoints and their deliveries: the shapes the
// server builds (user-fields.ts, webhook-admin.ts) and the web app reads. Plain types, no imports,
// so the browser build can use them too.

/** A user: never an API key. */
export interface UserView {
  id: string;
  email: string;
  name: string | null;
  admin: boolean;
  groups: string[];
  /** Their linked Slack account, if any. */
  slackUserId: string | null;
  active: boolean;
  deactivatedAt: string | null;
  /** The admin named by ADMIN_EMAIL (made admin again at every start). */
  bootstrap: boolean;
  createdAt: string;
}

/** A user in GET /api/users: with how many of their API keys still work. */
export interface UserListView extends UserView {
  activeKeys: number;
}

/** An API key: never its hash, nor (after creation) the key. */
export interface KeyView {
  id: string;
  /** The owner's email. */
  user: string;
  /** The key's first characters, to recognise it (`hoop_AbCd`). */
  prefix: string;
  name: string | null;
  bootstrap: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The events a webhook endpoint can subscribe to (src/notify/channel.ts REVIEW_EVENTS). */
export type WebhookEvent =
  | 'review.created'
  | 'review.group_approved'
  | 'review.approved'
  | 'review.rejected'
  | 'review.expired'
  | 'review.executed'
  | 'review.failed'
  // An access request's window (Just-in-Time access).
  | 'review.access_granted'
  | 'review.access_ended'
  | 'review.access_revoked';

/** A webhook endpoint: never its secret (except once, in the answer that made it). */
export interface WebhookView {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  /** Connection names; empty: every connection. */
  connections: string[];
  enabled: boolean;
  disabledAt: string | null;
  disabledReason: string | null;
  failingSince: string | null;
  /** Until when the secret before the last rotation still signs. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The newest delivery of an endpoint, as GET /api/webhooks and /api/webhooks/:id show it. */
export interface LastDeliveryView {
  id: string;
  event: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

/** An endpoint in GET /api/webhooks and GET /api/webhooks/:id. */
export interface WebhookListView extends WebhookView {
  lastDelivery: LastDeliveryView | null;
}

/** One attempt of a delivery. */
export interface AttemptView {
  attempt: number;
  event: string;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
  responseExcerpt: string | null;
  at: string;
}

/** A delivery (one endpoint, one review, one event) with its attempt log. */
export interface DeliveryView {
  id: string;
  webhookId: string;
  reviewId: string | null;
  event: string;
  /** pending, failed, succeeded or gave_up. */
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastDurationMs: number | null;
  lastError: string | null;
  responseExcerpt: string | null;
  createdAt: string;
  updatedAt: string;
  log: AttemptView[];
}

/** An agent (a non-human identity, issue 13): its name, the person who owns it, its groups. */
export interface AgentView {
  name: string;
  /** The owning person's email. */
  owner: string;
  groups: string[];
  active: boolean;
  createdAt: string;
}

/** An agent in a list: how many of its API keys still work. */
export interface AgentListView extends AgentView {
  activeKeys: number;
}
