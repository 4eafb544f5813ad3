/** The `hoop` command's exit codes: scripts and agents branch on them. */
export const EXIT = {
  ok: 0,
  sqlFailed: 1,
  /** `hoop admin doctor`: a check failed. */
  checksFailed: 1,
  usage: 2,
  rejected: 3,
  expired: 4,
  unreachable: 5,
  /** `hoop admin audit verify`: the audit chain was changed, cut or added to outside the gateway. */
  auditBroken: 6,
  interrupted: 130,
} as const;

/** An error the CLI prints as one sentence on stderr before exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
