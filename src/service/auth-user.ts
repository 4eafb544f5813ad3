/** The authenticated person (or agent) acting. */
export interface AuthUser {
  id: string;
  email: string;
  isAdmin: boolean;
  groups: string[];
  slackUserId: string | null;
}
