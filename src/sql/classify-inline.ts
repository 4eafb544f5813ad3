import { classifyMysql } from './classify-mysql.js';
import { classifyPostgres, loadPostgresParser } from './classify-postgres.js';
import { lineageMysql, lineagePostgres, type LineageRequest, type MysqlLineageRequest } from './lineage.js';
import type { StatementLineage } from './lineage-postgres.js';
import type { Classification, ClassifyOptions, Dialect } from './types.js';

/** One classification job: what the classifier of `dialect` needs. */
export interface ClassifyRequest {
  dialect: Dialect;
  sql: string;
  options: ClassifyOptions;
}

/** One column-lineage job: the input and what the target's catalog said of its relations. */
export type LineageJob = ({ dialect: 'postgres' } & LineageRequest) | ({ dialect: 'mysql' } & MysqlLineageRequest);

/** Classifies on this thread. */
export async function classifyInline({ dialect, sql, options }: ClassifyRequest): Promise<Classification> {
  if (dialect === 'mysql') return classifyMysql(sql, options);
  await loadPostgresParser();
  return classifyPostgres(sql, options);
}

/** Column lineage on this thread; null when it cannot be traced. */
export async function lineageInline(job: LineageJob): Promise<StatementLineage[] | null> {
  if (job.dialect === 'mysql') return lineageMysql(job);
  await loadPostgresParser();
  return lineagePostgres(job);
}
