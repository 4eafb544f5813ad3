// Transaction-scoped advisory locks: PostgreSQL serialises the holders across processes and
// replicas, and releases the lock at commit or rollback (nothing to clean up after a crash).
import type { Tx } from './client.js';

/**
 * Serialises every change of who is an admin or active (start-up bootstrap, user updates), so two
 * replicas starting at once do not both create the bootstrap key, and two admins demoting each
 * other at once cannot both see "another admin is left".
 */
export async function lockAdminSet(tx: Tx): Promise<void> {
  // Not Prisma's migrate lock (72707369): a key of our own, derived from a name.
  await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext('hoop:admin-set'))`;
}
