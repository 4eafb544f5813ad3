// The SqlExecutor of the gateway: PostgreSQL or MySQL/MariaDB by the target URL's scheme.
import { createMysqlExecutor } from './mysql.js';
import { createPostgresExecutor } from './postgres.js';
import type { LineageFn } from './mysql-catalog.js';
import type { LimiterOptions } from './target-limiter.js';
import type { SqlExecutor } from './types.js';

export type { ExecutionResult, ReadCheck, RunOptions, SqlExecutor, SqlTarget } from './types.js';

export interface SqlExecutorOptions {
  limits: LimiterOptions;
  onPoolError?: (error: Error) => void;
  /** Column lineage; the gateway passes its classifier's, which takes large inputs off the event loop. */
  lineage?: LineageFn;
}

/** One executor per process: its pools are shared by every request to the same target. */
export function createSqlExecutor(opts: SqlExecutorOptions): SqlExecutor {
  const postgres = createPostgresExecutor(opts);
  const mysql = createMysqlExecutor(opts);
  const isMysql = (url: string) => /^mysql:/i.test(url);
  return {
    run: (target, input, options) => (isMysql(target.url) ? mysql.run(target, input, options) : postgres.run(target, input, options)),
    checkRead: (target, statements, policy) => (isMysql(target.url) ? mysql.checkRead(target, statements, policy) : postgres.checkRead(target, statements, policy)),
    async close() {
      await Promise.all([postgres.close(), mysql.close()]);
    },
  };
}
