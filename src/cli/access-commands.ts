// Just-in-Time access from the terminal (issue 13): `hoop request access CONN --duration 30m
// --reason ...` asks for a window and waits for its decision; `hoop review revoke ID` closes one.
import type { Command } from 'commander';
import type { ReviewView, ReviewViewForViewer } from '../contracts/review-view.js';
import { UnreachableError } from './api-client.js';
import { CliError, EXIT } from './exit-codes.js';
import type { IdentityCommandsContext } from './identity-commands.js';
import { outputOption } from './options.js';
import { printable, rejectionLine, waitingOn } from './output.js';

/** The gateway holds a long-poll at most this long; the CLI asks again. */
const POLL_SEC = 30;

export interface AccessCommandsContext extends IdentityCommandsContext {
  /** Where waiting is told (stderr), apart from the answer (stdout). */
  note: (text: string) => void;
  setExit: (code: number) => void;
}

/** "until 14:30:00 UTC (in 29 min)". */
function untilWords(iso: string, now = Date.now()): string {
  const left = Math.max(0, Math.round((new Date(iso).getTime() - now) / 60_000));
  return `until ${iso.slice(11, 19)} UTC on ${iso.slice(0, 10)} (${left < 1 ? 'less than a minute' : `${left} min`} left)`;
}

/** One line on what became of an access request, and its exit code. */
export function accessOutcome(r: ReviewView): { line: string; code: number } {
  const a = r.access;
  if (r.status === 'GRANTED' && a?.endsAt) {
    return { line: `Access granted to ${r.connection} ${untilWords(a.endsAt)}. Your commands there run without a per-command review until then (guardrails and masking still apply). Request ${r.id}.`, code: EXIT.ok };
  }
  if (r.status === 'ENDED') return { line: `Access to ${r.connection} has ended${a?.revokedBy ? ` (revoked by ${a.revokedBy})` : ''}. Request ${r.id}.`, code: EXIT.expired };
  if (r.status === 'REJECTED') return { line: rejectionLine(r), code: EXIT.rejected };
  if (r.status === 'EXPIRED') return { line: `Access request ${r.id} expired without every approval; no access was granted. Ask again.`, code: EXIT.expired };
  return { line: `Access request ${r.id} is ${r.status.toLowerCase()}, waiting on ${waitingOn(r) || 'its reviewers'}. Check it with: hoop get review ${r.id}`, code: EXIT.ok };
}

/** Adds `hoop request access` and `hoop review revoke`. */
export function registerAccessCommands(cmds: { program: Command; review: Command }, ctx: AccessCommandsContext): void {
  const { client, print, json, note, setExit } = ctx;
  const request = cmds.program.command('request').description('ask for something that needs approval');
  request
    .command('access')
    .description('ask for a time window on a connection (Just-in-Time access): once approved, your commands there run without a per-command review until it ends')
    .argument('<connection>', 'the connection name (hoop admin get connections)')
    .requiredOption('--duration <duration>', 'how long, e.g. 30m, 2h, 1h30m (at most the connection\'s maximum)')
    .requiredOption('--reason <text>', 'why, shown to the reviewers')
    .option('--no-wait', 'print the request id and exit without waiting for the decision')
    .addOption(outputOption())
    .action(async (connection: string, opts: { duration: string; reason: string; wait: boolean; output: string }) => {
      const c = client();
      let review = (await c.request<ReviewView>('POST', `/api/connections/${encodeURIComponent(connection)}/access`, { duration: opts.duration, reason: opts.reason })).body;
      if (review.status === 'PENDING' && opts.wait) {
        note(`hoop: access request ${review.id} is pending; waiting on ${waitingOn(review)}. Ctrl-C stops waiting and leaves the request as it is.`);
        const controller = new AbortController();
        const onInterrupt = () => controller.abort();
        process.once('SIGINT', onInterrupt);
        try {
          while (review.status === 'PENDING') review = (await c.getReview(review.id, POLL_SEC, controller.signal)).review;
        } catch (error) {
          if ((error as Error).name === 'AbortError') throw new CliError(`stopped waiting; access request ${review.id} is still pending. Check it later with: hoop get review ${review.id}`, EXIT.interrupted);
          if (error instanceof UnreachableError) throw new CliError(`${error.message}; access request ${review.id} was pending when last seen: hoop get review ${review.id}`, EXIT.unreachable);
          throw error;
        } finally {
          process.removeListener('SIGINT', onInterrupt);
        }
      }
      const { line, code } = accessOutcome(review);
      setExit(code);
      if (opts.output === 'json') return json(review);
      // Pending (--no-wait): the id alone on stdout, for scripts; what it waits on on stderr.
      if (review.status === 'PENDING') print(review.id);
      (code === EXIT.ok && review.status !== 'PENDING' ? print : note)(printable(line));
    });

  cmds.review
    .command('revoke')
    .description('close an open access window at once (reviewers of its groups, admins, or its requester)')
    .argument('<id>', 'the access request')
    .addOption(outputOption())
    .action(async (id: string, opts: { output: string }) => {
      const res = await client().request<ReviewViewForViewer>('PUT', `/api/reviews/${encodeURIComponent(id)}/revoke`, {});
      if (opts.output === 'json') return json(res.body);
      print(`Revoked. ${res.body.requester}'s access to ${res.body.connection} has ended; their next command there is reviewed again.`);
    });
}
