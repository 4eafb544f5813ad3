-- Agents as identities (issue 13): a user row is a person or an agent. An agent is keyed like a
-- person by its unique email, '<name>@agents.invalid' ('.invalid' is reserved and never routable),
-- and always has an owning person; a person never has an owner. An agent is never an admin.
ALTER TABLE "User" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'person';
ALTER TABLE "User" ADD COLUMN "ownerId" UUID;

ALTER TABLE "User" ADD CONSTRAINT "User_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Enforced by the database too, so no writer can make an ownerless agent or an admin agent.
ALTER TABLE "User" ADD CONSTRAINT "User_kind_check" CHECK (
  ("kind" = 'person' AND "ownerId" IS NULL)
  OR ("kind" = 'agent' AND "ownerId" IS NOT NULL AND "isAdmin" = false)
);
