// The SqlExecutor of the gateway: PostgreSQL or MySQL/MariaDB by the target URL's scheme.
import { createMysqlExecutor } from './mysql.js';
import { createPostgresExecutor } from './postgres.js';
import { dialectOf } from '../sql/types.js';
import type { SqlExecutor, SqlExecutorOptions } from './types.js';

export type { ExecutionResult, PreviewRunOptions, ReadCheck, RunOptions, RunOutcome, SqlExecutor, SqlExecutorOptions, SqlTarget, TargetSession } from './types.js';

/** One executor per process: its pools are shared by every request to the same target. */
export function createSqlExecutor(opts: SqlExecutorOptions): SqlExecutor {
  const postgres = createPostgresExecutor(opts);
  const mysql = createMysqlExecutor(opts);
  const isMysql = (url: string) => dialectOf(url) === 'mysql';
  return {
    run: (target, input, options) => (isMysql(target.url) ? mysql.run(target, input, options) : postgres.run(target, input, options)),
    preview: (target, options) => (isMysql(target.url) ? mysql.preview(target, options) : postgres.preview(target, options)),
    outcome: (target, session) => (isMysql(target.url) ? mysql.outcome(target, session) : postgres.outcome(target, session)),
    async close() {
      await Promise.all([postgres.close(), mysql.close()]);
    },
  };
}
