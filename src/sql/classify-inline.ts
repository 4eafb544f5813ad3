import { classifyMysql } from './classify-mysql.js';
import { classifyPostgres, loadPostgresParser } from './classify-postgres.js';
import { fingerprintOf, textFingerprint } from './fingerprint.js';
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

/** Classifies on this thread, with the command's pattern (not for input refused as too many statements). */
export async function classifyInline({ dialect, sql, options }: ClassifyRequest): Promise<Classification> {
  if (dialect === 'postgres') await loadPostgresParser();
  const c = dialect === 'mysql' ? classifyMysql(sql, options) : classifyPostgres(sql, options);
  // Input the parser refused is grouped by its text: parsing it again for a fingerprint would cost
  // as much as the refusal did (PostgreSQL's scanner is quadratic on unterminated nested comments).
  if (c.tooManyStatements === undefined) c.fingerprint = c.parsed ? fingerprintOf(dialect, sql) : textFingerprint(sql);
  return c;
}

/** Column lineage on this thread; null when it cannot be traced. */
export async function lineageInline(job: LineageJob): Promise<StatementLineage[] | null> {
  if (job.dialect === 'mysql') return lineageMysql(job);
  await loadPostgresParser();
  return lineagePostgres(job);
}
