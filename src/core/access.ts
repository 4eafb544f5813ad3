// Who may use a connection: pure, so every path (submit, list, get, vote, Slack results) asks the same rule.

/** Admins, members of an allowed group, and the connection's reviewers use it; no allowed groups means all. */
export function canUseConnection(user: { isAdmin: boolean; groups: readonly string[] }, connection: { allowedGroups: readonly string[]; reviewers: readonly string[] }): boolean {
  if (user.isAdmin || connection.allowedGroups.length === 0) return true;
  return user.groups.some((g) => connection.allowedGroups.includes(g) || connection.reviewers.includes(g));
}
