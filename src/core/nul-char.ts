// PostgreSQL text cannot hold U+0000: a command, reason, name or filter carrying one would fail
// deep in a write (an internal error, the request lost) instead of being refused up front with
// a sentence. This finds the first one in a parsed JSON value, a query or a path. Pure.

/**
 * Where the first U+0000 is in `value` (a JSON path such as `reason` or `groups[2]`), or null.
 * Walked with a stack, not recursion: a body of a hundred thousand nested arrays is well under the
 * size limit and must not overflow the call stack.
 */
export function firstNulPath(value: unknown): string | null {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path || '(the value)';
      continue;
    }
    // Raw bodies (Slack's, read as bytes for their signatures) are not JSON here.
    if (!v || typeof v !== 'object' || ArrayBuffer.isView(v)) continue;
    // Pushed in reverse, so the first field or item is looked at first.
    const entries: Array<[unknown, string]> = Array.isArray(v) ? v.map((item, i) => [item, `${path}[${i}]`]) : Object.entries(v).map(([k, item]) => [item, path ? `${path}.${k}` : k]);
    if (!Array.isArray(v)) {
      for (const k of Object.keys(v)) if (k.includes('\u0000')) return path ? `${path}.${k}` : k;
    }
    for (let i = entries.length - 1; i >= 0; i--) stack.push(entries[i]!);
  }
  return null;
}
