/** The authenticated person (or agent) acting. */
export interface AuthUser {
  id: string;
  email: string;
  isAdmin: boolean;
  groups: string[];
  slackUserId: string | null;
  /**
   * The API key this request authenticated with and the version of the user it saw. `cached`:
   * taken from this process's cache of recent authentications, so a use case must check it against
   * the database before it acts on it (a read does so in its audit write; see hot-cache.ts).
   */
  key?: { id: string; userUpdatedAt: Date; cached: boolean };
}
