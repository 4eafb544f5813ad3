// Group names as people type them in a field and as pages list them.

/** "dba-team, security" or "dba-team security" → ["dba-team", "security"]; the API checks each name. */
export function parseGroups(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((g) => g.trim())
    .filter(Boolean);
}

/** Groups as a list of chips. */
export function GroupList({ groups }: { groups: string[] }) {
  return (
    <ul className="chips">
      {groups.map((g) => (
        <li key={g}>{g}</li>
      ))}
    </ul>
  );
}
