// Applies pending migrations before the gateway starts, with the standard `prisma migrate deploy`
// run as a child of this process (so `npm start` is one node process a supervisor can signal).
// Replicas started at once are safe: the schema engine serialises them with Prisma's advisory
// lock, and a database another replica just created counts as created.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from './logger.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `prisma migrate deploy` against `databaseUrl`; rejects with the CLI's output on failure. */
export function applyMigrations(databaseUrl: string, log: Logger): Promise<void> {
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', 'deploy', '--config', path.join(ROOT, 'prisma.config.ts')], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      // A process group of its own: a stop sent to the whole group (systemd's default, Ctrl-C) would
      // cut a migration half-way, leaving a failed row that blocks every later deploy. The gateway
      // handles the stop and waits for the migration; if the gateway itself is killed, the
      // migration still finishes.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
      if (code === 0) {
        const summary = lines.find((l) => /migrations? (have been )?(successfully )?applied|No pending migrations/i.test(l));
        log.info({ ms: Date.now() - started, summary }, 'database migrations applied');
        resolve();
      } else {
        reject(new Error(`prisma migrate deploy failed (${signal ?? `exit ${code}`}):\n${lines.slice(-15).join('\n')}`));
      }
    });
  });
}
