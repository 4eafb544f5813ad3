/** The authenticated person (or agent) acting. */
export interface AuthUser {
  id: string;
  email: string;
  isAdmin: boolean;
  groups: string[];
  slackUserId: string | null;
  /** 'agent': a non-human identity (never decides a request; its requests need a reason). */
  kind: 'person' | 'agent';
  /** An agent's owner (the email of the person answerable for it); null for a person. */
  owner: string | null;
  /**
   * The API key this request authenticated with and the version of the user it saw. `cached`:
   * taken from this process's cache of recent authentications, so a use case must check it against
   * the database before it acts on it (a read does so in its audit write; see hot-cache.ts).
   */
  key?: { id: string; userUpdatedAt: Date; cached: boolean };
  /** The web session this request came with (the web app), instead of an API key. */
  session?: SessionOfUser;
}

/** What a request authenticated by a web session carries besides its user (src/service/web-sessions.ts). */
export interface SessionOfUser {
  id: string;
  method: 'api-key' | 'oidc';
  oidcIssuer: string | null;
  oidcSubject: string | null;
  expiresAt: Date;
}
