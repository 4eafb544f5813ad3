// What `GET /api/admin/doctor` answers and `hoop admin doctor` prints: one line per thing checked,
// with the command or setting that fixes it. Shared by the gateway and the CLI.

export type DoctorStatus = 'ok' | 'warn' | 'fail';

/** One thing checked. `fix` is a command a person can run or a setting to change; null when ok. */
export interface DoctorCheck {
  /** slack, teams, webhooks, or general (what no single channel owns). */
  channel: string;
  /** What was checked, e.g. `auth`, `channel C0123`, `reviewers linked: prod-db`. */
  name: string;
  status: DoctorStatus;
  message: string;
  fix: string | null;
}

export interface DoctorReport {
  checks: DoctorCheck[];
}

/** A check, with `fix` null unless given. */
export function check(channel: string, name: string, status: DoctorStatus, message: string, fix: string | null = null): DoctorCheck {
  return { channel, name, status, message, fix };
}
