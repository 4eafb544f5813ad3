// What masking tests look through: every place a review's data can end up.
import { eventually, type TestGateway } from './gateway.js';

/** A review as the API shows it (to an admin). */
export async function reviewOf(t: TestGateway, id: string): Promise<any> {
  return (await t.api('GET', `/api/reviews/${id}`)).body;
}

/**
 * Waits until the review ran (EXECUTED or FAILED) and returns it. A read that ran without review
 * (`submitted`, the answer to its submit) is finished already and has no request to ask for.
 */
export function finishedReview(t: TestGateway, id: string, submitted?: any): Promise<any> {
  if (submitted?.id === id && submitted.readOnly && ['EXECUTED', 'FAILED'].includes(submitted.status)) return Promise.resolve(submitted);
  return eventually(async () => {
    const v = await reviewOf(t, id);
    return ['EXECUTED', 'FAILED'].includes(v.status) && v;
  });
}

/** Everything the gateway keeps or says of a review: API view, stored row, audit trail, Slack calls. */
export async function everythingAbout(t: TestGateway, id: string): Promise<string> {
  const stored = await t.gateway.db.review.findUnique({ where: { id } });
  if (!stored) {
    // A read that ran without review leaves no request, only its audit events (and no Slack message).
    const events = await readEvents(t, id);
    if (events.length === 0) throw new Error(`neither a request nor a read has the id ${id}`);
    const slack = t.slack.calls.filter((c) => JSON.stringify(c.args).includes(id));
    return JSON.stringify([events, slack.map((c) => c.args)]);
  }
  const audit = await t.gateway.db.auditEvent.findMany({ where: { reviewId: id } });
  const slack = t.slack.calls.filter((c) => JSON.stringify(c.args).includes(id));
  return JSON.stringify([await reviewOf(t, id), stored, audit.map((a) => a.detail), slack.map((c) => c.args)]);
}

/** The audit events of a read that ran without review (its id is their detail.readId), oldest first. */
export async function readEvents(t: TestGateway, readId: string): Promise<{ action: string; actor: string; source: string; detail: any; ip: string | null; userAgent: string | null; reviewId: string | null }[]> {
  return t.gateway.db.$queryRaw`SELECT action, actor, source, detail, ip, "userAgent", "reviewId"::text AS "reviewId" FROM "AuditEvent" WHERE detail->>'readId' = ${readId} ORDER BY id`;
}
