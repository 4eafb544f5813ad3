// What bench:expiry and bench:pending-memory build their thousands of pending requests with: N
// copies of one request submitted through the API, written in one statement with exactly the rows
// the submit use case writes (review, its groups, its `review.created` audit event, the outbox
// rows of its expiry job and its Slack post), so the gateway relays and posts them as its own.
import type pg from 'pg';

/** Copies pending request `templateId` `n` times under queue prefix `queuePrefix`; returns the copies' ids. */
export async function copyPendingRequests(sql: pg.ClientBase | pg.Pool, templateId: string, n: number, queuePrefix: string): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>(
    `WITH src AS (SELECT * FROM "Review" WHERE id = $1::uuid),
     ins AS (
       INSERT INTO "Review" ("id", "connectionId", "requesterId", "input", "reason", "status", "autoApproved", "readOnly", "classification", "createdAt", "expiresAt", "commandTags")
       SELECT gen_random_uuid(), s."connectionId", s."requesterId", s."input" || ' -- ' || g, s."reason", 'PENDING', false, false, s."classification", timezone('UTC', now()), s."expiresAt", s."commandTags"
       FROM src s, generate_series(1, $2::int) g
       RETURNING "id"),
     grp AS (
       INSERT INTO "ReviewGroup" ("id", "reviewId", "group", "status")
       SELECT gen_random_uuid(), ins."id", sg."group", 'PENDING' FROM ins, (SELECT "group" FROM "ReviewGroup" WHERE "reviewId" = $1::uuid) sg),
     aud AS (
       INSERT INTO "AuditEvent" ("reviewId", "actorId", "actor", "action", "source", "detail", "ip", "userAgent", "createdAt")
       SELECT ins."id", a."actorId", a."actor", a."action", a."source", a."detail", a."ip", a."userAgent", timezone('UTC', now())
       FROM ins, (SELECT * FROM "AuditEvent" WHERE "reviewId" = $1::uuid AND "action" = 'review.created') a),
     ob AS (
       INSERT INTO "OutboxJob" ("queuePrefix", "reviewId", "name", "payload", "jobId", "dueAt")
       SELECT $3, ins."id", j.name, jsonb_build_object('reviewId', ins."id"), j.prefix || ins."id", CASE WHEN j.name = 'review.expire' THEN (SELECT "expiresAt" FROM src) END
       FROM ins, (VALUES ('review.expire', 'expire-'), ('slack.post-review', 'post-')) j(name, prefix))
     SELECT "id" FROM ins`,
    [templateId, n, queuePrefix],
  );
  return rows.map((r) => r.id);
}
