// `hoop exec`: submit, wait for the decision (spinner on a terminal only), print as psql would.
import ora from 'ora';
import type { ReviewView } from '../contracts/review-view.js';
import { UNREACHABLE_WAIT_MS, UnreachableError, type GatewayClient } from './api-client.js';
import { EXIT } from './exit-codes.js';
import { jsonText, rejectionLine, waitingOn, printable } from './output.js';

export interface ExecOptions {
  connection: string;
  input: string;
  reason?: string;
  wait: boolean;
  json: boolean;
}

interface ExecIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const OPEN = new Set(['PENDING', 'APPROVED', 'RUNNING']);
// The gateway holds a long-poll at most this long; the CLI simply asks again.
const POLL_SEC = 30;

/** The exit code and the text for a final review. */
function finish(review: ReviewView, io: ExecIo, json: boolean): number {
  const code =
    review.status === 'EXECUTED' ? EXIT.ok : review.status === 'FAILED' ? EXIT.sqlFailed : review.status === 'REJECTED' ? EXIT.rejected : EXIT.expired;
  if (json) {
    io.stdout.write(jsonText(review, 2) + '\n');
    return code;
  }
  if (review.status === 'EXECUTED') {
    if (review.output) io.stdout.write(printable(review.output) + '\n');
    if (review.outputTruncated) io.stderr.write('hoop: the output was cut at the gateway\'s limit; see hoop get review ' + review.id + '\n');
  } else if (review.status === 'FAILED') {
    io.stderr.write(printable(review.output || `ERROR:  ${review.error}`) + '\n');
  } else if (review.status === 'REJECTED') {
    io.stderr.write(`hoop: ${printable(rejectionLine(review))}\n`);
  } else {
    io.stderr.write(`hoop: review ${review.id} expired at ${review.decidedAt ?? review.expiresAt} without every approval; the command was not executed. Resubmit it.\n`);
  }
  return code;
}

/** Submits and, unless --no-wait, waits; Ctrl-C at any point leaves the request as it is. */
export async function runExec(client: GatewayClient, io: ExecIo, opts: ExecOptions): Promise<number> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await submitAndWait(client, io, opts, controller.signal);
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

async function submitAndWait(client: GatewayClient, io: ExecIo, opts: ExecOptions, signal: AbortSignal): Promise<number> {
  let submitted;
  try {
    submitted = await client.request<ReviewView>('POST', `/api/connections/${encodeURIComponent(opts.connection)}/exec`, { input: opts.input, reason: opts.reason }, { signal });
  } catch (error) {
    if (error instanceof UnreachableError && !error.refused) {
      // Sent, then cut (a gateway stopped mid-request): "cannot reach" would hide that it may be done.
      io.stderr.write(`hoop: the connection to the gateway broke before it answered (${printable(error.detail)}); the request may have been created, and a read without review may have run. List yours with: hoop admin get reviews\n`);
      return EXIT.unreachable;
    }
    if ((error as Error).name !== 'AbortError') throw error;
    io.stderr.write('\nhoop: interrupted while submitting; the request may have been created. List yours with: hoop admin get reviews --status pending\n');
    return EXIT.interrupted;
  }
  let review = submitted.body;
  if (!OPEN.has(review.status)) return finish(review, io, opts.json);
  if (!opts.wait) {
    if (opts.json) io.stdout.write(jsonText(review, 2) + '\n');
    else {
      io.stdout.write(review.id + '\n');
      io.stderr.write(`hoop: review ${review.id} is ${review.status}, waiting on ${waitingOn(review) || 'execution'}. Check it with: hoop get review ${review.id}\n`);
    }
    return EXIT.ok;
  }

  const label = (r: ReviewView) =>
    r.status === 'PENDING' ? `Waiting for approval... review ${r.id}; waiting on: ${waitingOn(r)}` : `Approved; running... review ${r.id}`;
  // Only on a terminal: ora would otherwise print its text once as a plain line.
  const onTerminal = Boolean(io.stderr.isTTY) && !opts.json;
  // A pseudo-terminal without a size reports 0 columns, and ora then clears lines without end.
  const tty = io.stderr as { columns?: number };
  if (onTerminal && !tty.columns) tty.columns = 80;
  const spinner = ora({ text: label(review), stream: io.stderr as NodeJS.WriteStream, isEnabled: onTerminal, discardStdin: false });
  if (onTerminal) spinner.start();
  // Without a terminal (scripts, CI logs) one plain line says what the call waits for.
  else if (!opts.json) io.stderr.write(`hoop: review ${review.id} is ${review.status.toLowerCase()}; waiting on ${waitingOn(review) || 'execution'}. Ctrl-C stops waiting and leaves the request as it is.\n`);
  let toldUnreachable = false;
  try {
    for (;;) {
      const res = await client.getReview(review.id, POLL_SEC, signal, () => {
        if (toldUnreachable) return;
        toldUnreachable = true;
        if (onTerminal) spinner.text = `The gateway does not answer (restarting?); still waiting... review ${review.id}`;
        else if (!opts.json) io.stderr.write(`hoop: the gateway does not answer (restarting?); still waiting on review ${review.id} for up to ${UNREACHABLE_WAIT_MS / 1000} s.\n`);
      });
      toldUnreachable = false;
      review = res.review;
      if (!OPEN.has(review.status)) break;
      spinner.text = label(review);
    }
  } catch (error) {
    spinner.stop();
    if ((error as Error).name === 'AbortError') {
      io.stderr.write(`\nhoop: stopped waiting; request ${review.id} is still ${review.status.toLowerCase()}. Check it later with: hoop get review ${review.id}\n`);
      return EXIT.interrupted;
    }
    if (error instanceof UnreachableError) {
      io.stderr.write(`hoop: ${printable(error.message)}\nhoop: request ${review.id} was ${review.status.toLowerCase()} when last seen; check it later with: hoop get review ${review.id}\n`);
      return EXIT.unreachable;
    }
    throw error;
  }
  spinner.stop();
  return finish(review, io, opts.json);
}
