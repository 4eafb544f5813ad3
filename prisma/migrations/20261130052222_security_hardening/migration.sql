-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "bootstrap" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "name" TEXT;

-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "distinctApprovers" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "active" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "bootstrap" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "deactivatedAt" TIMESTAMP(3);


-- Emails compare case-insensitively: they are stored lower-case. Rows that would collide with an
-- existing lower-case email are left as they are (an admin resolves them); new rows must comply.
UPDATE "User" u SET "email" = lower(u."email")
  WHERE u."email" <> lower(u."email")
    AND NOT EXISTS (SELECT 1 FROM "User" o WHERE o."email" = lower(u."email"));
ALTER TABLE "User" ADD CONSTRAINT "User_email_lower_case" CHECK ("email" = lower("email")) NOT VALID;

-- The bootstrap admin made by ADMIN_EMAIL/ADMIN_API_KEY before this migration, and its keys.
UPDATE "User" SET "bootstrap" = true
  WHERE "name" = 'Bootstrap admin'
     OR "email" IN (SELECT lower("detail"->>'email') FROM "AuditEvent" WHERE "action" = 'user.bootstrap_admin');
UPDATE "ApiKey" SET "bootstrap" = true
  WHERE "userId" IN (SELECT "id" FROM "User" WHERE "name" = 'Bootstrap admin');

-- Connections still on the old default guardrails get the new default too: no DROP SCHEMA.
UPDATE "Connection" SET "guardrails" = "guardrails" || '[{"type": "deny-command", "name": "no-drop-schema", "command": "DROP SCHEMA", "message": "Dropping schemas is blocked on this connection."}]'::jsonb
  WHERE "guardrails" = '[
    {"type": "deny-command", "name": "no-drop-table", "command": "DROP TABLE", "message": "Dropping tables is blocked on this connection; ship it as a reviewed migration."},
    {"type": "deny-command", "name": "no-drop-database", "command": "DROP DATABASE", "message": "Dropping databases is blocked on this connection."},
    {"type": "deny-command", "name": "no-truncate", "command": "TRUNCATE", "message": "TRUNCATE is blocked on this connection; delete the rows you mean with a WHERE clause."}
  ]'::jsonb;
