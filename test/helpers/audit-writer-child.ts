// A process that writes audit events the way the gateway does (recordAudit and recordAuditMany in
// Prisma transactions, several at once) while its own chainer runs, as every replica's does. Two
// of them on one database are two replicas appending at once. Prints one JSON line, then exits.
// Run with `node --import tsx test/helpers/audit-writer-child.ts <transactions>`; DATABASE_URL.
import { createAuditChainer } from '../../src/db/audit-chainer.js';
import { recordAudit, recordAuditMany, SYSTEM_ACTOR } from '../../src/db/audit.js';
import { createDb, statePoolOf } from '../../src/db/client.js';

const transactions = Number(process.argv[2] ?? 200);
const db = createDb(process.env.DATABASE_URL!, { max: 8 });
const quiet = { info: () => {}, warn: (o: object, m: string) => console.error(m, o) };
// A short timer and debounce, so runs overlap with writes and with the other process's runs.
const chainer = createAuditChainer({ pool: statePoolOf(db), log: quiet, intervalMs: 20, debounceMs: 5, headLogSec: 0 });
chainer.start();
let written = 0;
let next = 0;
async function worker(): Promise<void> {
  while (next < transactions) {
    const i = next++;
    const n = await db.$transaction(async (tx) => {
      if (i % 3 === 0) {
        await recordAuditMany(tx, SYSTEM_ACTOR, [1, 2, 3].map((k) => ({ action: 'review.expired' as const, reviewId: null, detail: { pid: process.pid, i, k } })));
        return 3;
      }
      await recordAudit(tx, { ...SYSTEM_ACTOR, ip: '127.0.0.1' }, 'web.sign_in', null, { pid: process.pid, i });
      // Some transactions stay open a moment, so later ones commit before them.
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 15));
      await recordAudit(tx, SYSTEM_ACTOR, 'web.sign_out', null, { pid: process.pid, i });
      return 2;
    });
    written += n;
  }
}
await Promise.all(Array.from({ length: 6 }, worker));
await chainer.stop();
await db.$disconnect();
console.log(JSON.stringify({ written }));
