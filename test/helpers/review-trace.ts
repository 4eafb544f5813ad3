// What masking tests look through: every place a review's data can end up.
import { eventually, type TestGateway } from './gateway.js';

/** A review as the API shows it (to an admin). */
export async function reviewOf(t: TestGateway, id: string): Promise<any> {
  return (await t.api('GET', `/api/reviews/${id}`)).body;
}

/** Waits until the review ran (EXECUTED or FAILED) and returns it. */
export function finishedReview(t: TestGateway, id: string): Promise<any> {
  return eventually(async () => {
    const v = await reviewOf(t, id);
    return ['EXECUTED', 'FAILED'].includes(v.status) && v;
  });
}

/** Everything the gateway keeps or says of a review: API view, stored row, audit trail, Slack calls. */
export async function everythingAbout(t: TestGateway, id: string): Promise<string> {
  const stored = await t.gateway.db.review.findUniqueOrThrow({ where: { id } });
  const audit = await t.gateway.db.auditEvent.findMany({ where: { reviewId: id } });
  const slack = t.slack.calls.filter((c) => JSON.stringify(c.args).includes(id));
  return JSON.stringify([await reviewOf(t, id), stored, audit.map((a) => a.detail), slack.map((c) => c.args)]);
}
