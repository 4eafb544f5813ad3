import { classifyMysql } from './classify-mysql.js';
import { classifyPostgres, loadPostgresParser } from './classify-postgres.js';
import type { Classification, ClassifyOptions, Dialect } from './types.js';

/** One classification job: what the classifier of `dialect` needs. */
export interface ClassifyRequest {
  dialect: Dialect;
  sql: string;
  options: ClassifyOptions;
}

/** Classifies on this thread. */
export async function classifyInline({ dialect, sql, options }: ClassifyRequest): Promise<Classification> {
  if (dialect === 'mysql') return classifyMysql(sql, options);
  await loadPostgresParser();
  return classifyPostgres(sql, options);
}
