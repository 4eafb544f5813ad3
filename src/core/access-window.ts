// Just-in-Time access (issue 13): a connection's access mode, and the windows people ask for. The
// seeds' "Action vs JIT": an action request approves one command; a JIT request approves a time
// window in which its requester's commands run without a per-command review. Pure: no I/O, no clock.
import { AppError, ErrorCode } from '../errors.js';

/** command: each command is reviewed (the default); jit: only access windows; both: either. */
export type AccessMode = 'command' | 'jit' | 'both';
export const ACCESS_MODES: readonly AccessMode[] = ['command', 'jit', 'both'];

/** The shortest window anyone may ask for, and the longest a connection may allow (7 days). */
export const MIN_ACCESS_SEC = 60;
export const MAX_ACCESS_SEC_LIMIT = 7 * 24 * 3600;
/** A connection's longest window unless its admin sets another. */
export const DEFAULT_MAX_ACCESS_SEC = 3600;

/** The stored mode, read defensively: anything unknown is the strictest, `command`. */
export function accessModeOf(connection: { accessMode: string }): AccessMode {
  return (ACCESS_MODES as readonly string[]).includes(connection.accessMode) ? (connection.accessMode as AccessMode) : 'command';
}

const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Seconds in a duration as people write it: `90s`, `30m`, `2h`, `1d`, `1h30m`, or a number of
 * seconds. Null when it is none of those.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim().toLowerCase();
  if (/^\d{1,9}$/.test(text)) return Number(text);
  if (!/^(\d{1,6}[dhms])+$/.test(text)) return null;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([dhms])/g)) total += Number(n) * UNIT_SEC[unit];
  return total > 0 ? total : null;
}

/** "30 minutes", "2 hours", "1 hour 30 minutes", "90 seconds": a window in words. */
export function durationWords(sec: number): string {
  const parts: string[] = [];
  const units: [number, string][] = [[86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  let left = sec;
  for (const [size, name] of units) {
    const n = Math.floor(left / size);
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
    left -= n * size;
  }
  return parts.join(' ') || '0 seconds';
}

/** "Access for 30 minutes to prod-db": what an access request asks for, as every channel titles it. */
export function accessTitle(durationSec: number, connection: string): string {
  return `Access for ${durationWords(durationSec)} to ${connection}`;
}

/**
 * The window an access request may ask for on `connection`, in seconds; throws BadInput with what
 * to send instead.
 */
export function checkAccessDuration(value: unknown, connection: { name: string; maxAccessSec: number }): number {
  const sec = parseDuration(value);
  const example = `e.g. "30m", "2h" or "1h30m" (at most ${durationWords(connection.maxAccessSec)} on ${connection.name})`;
  if (value === undefined || value === null || value === '') throw new AppError(ErrorCode.BadInput, `Say how long you need access in "duration", ${example}.`);
  if (sec === null) throw new AppError(ErrorCode.BadInput, `"duration" must be a number of seconds or a duration like "30m", "2h" or "1h30m"; ${JSON.stringify(String(value).slice(0, 40))} is neither.`);
  if (sec < MIN_ACCESS_SEC) throw new AppError(ErrorCode.BadInput, `An access window lasts at least ${durationWords(MIN_ACCESS_SEC)}; ask for longer, ${example}.`);
  if (sec > connection.maxAccessSec) {
    throw new AppError(ErrorCode.BadInput, `${connection.name} grants access for at most ${durationWords(connection.maxAccessSec)}; ask for that or less (an admin sets it: hoop admin create connection ${connection.name} --max-access-duration 4h --overwrite).`, {
      details: { maxAccessSec: connection.maxAccessSec, askedSec: sec },
    });
  }
  return sec;
}

/**
 * Whether `requester` may ask for a window on `connection` at all; throws what to do instead.
 * Agents only where the connection allows it (jitAgents).
 */
export function checkMayRequestAccess(connection: { name: string; accessMode: string; jitAgents: boolean }, requester: { kind: 'person' | 'agent' }): void {
  if (accessModeOf(connection) === 'command') {
    throw new AppError(ErrorCode.Forbidden, `${connection.name} reviews each command and grants no access windows. Send the command itself (hoop exec), or ask an admin to allow windows: hoop admin create connection ${connection.name} --access-mode both --overwrite.`);
  }
  if (requester.kind === 'agent' && !connection.jitAgents) {
    throw new AppError(ErrorCode.Forbidden, `Agents may not ask for access windows on ${connection.name}; each of their commands is reviewed. An admin can allow it: hoop admin create connection ${connection.name} --jit-agents --overwrite.`);
  }
}

/** The refusal of a command that needs a review on a connection that only grants windows, to someone without one. */
export function jitOnlyRefusal(connection: string): AppError {
  return new AppError(
    ErrorCode.Forbidden,
    `${connection} takes access requests, not per-command reviews, and you have no open access window there. Ask for one first: hoop request access ${connection} --duration 30m --reason "..." (API: POST /api/connections/${connection}/access). Nothing was run.`,
  );
}
