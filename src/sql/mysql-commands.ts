// What a MySQL/MariaDB statement is from its first words, for statements no parser reads. Where the
// words leave it open, the reading is the more dangerous one: guardrails must not miss a DROP TABLE
// because it was spelt `DROP TABLES` or `DROP TEMPORARY TABLE`.

// Objects a CREATE, DROP, ALTER or RENAME names; the plural is MariaDB's and MySQL's synonym.
const OBJECTS = new Map<string, string>([
  ['TABLE', 'TABLE'], ['TABLES', 'TABLE'], ['DATABASE', 'DATABASE'], ['SCHEMA', 'DATABASE'], ['VIEW', 'VIEW'], ['INDEX', 'INDEX'],
  ['USER', 'USER'], ['ROLE', 'ROLE'], ['PROCEDURE', 'PROCEDURE'], ['FUNCTION', 'FUNCTION'], ['TRIGGER', 'TRIGGER'],
  ['EVENT', 'EVENT'], ['SEQUENCE', 'SEQUENCE'], ['SERVER', 'SERVER'], ['TABLESPACE', 'TABLESPACE'], ['PACKAGE', 'PACKAGE'],
  ['PREPARE', 'PREPARE'], ['LOGFILE', 'LOGFILE GROUP'], ['SYNONYM', 'SYNONYM'],
]);

/** Statements that keep a table's name but check or rebuild it: `ANALYZE TABLE`, `OPTIMIZE TABLES`… */
const TABLE_MAINTENANCE = new Set(['ANALYZE', 'OPTIMIZE', 'REPAIR', 'CHECK', 'CHECKSUM']);

/**
 * Words a MySQL or MariaDB statement can start with (stored-program statements included): a statement
 * starting with any other word is one the gateway does not know, so it cannot tell what it runs.
 */
export const STATEMENT_WORDS = new Set(
  `ALTER ANALYZE BACKUP BEGIN BINLOG CACHE CALL CASE CHANGE CHECK CHECKSUM CLOSE COMMIT CREATE DEALLOCATE DECLARE DELETE DESC
  DESCRIBE DO DROP ELSE ELSEIF END EXECUTE EXPLAIN FETCH FLUSH FOR GET GRANT HANDLER HELP IF IMPORT INSERT INSTALL ITERATE
  KILL LEAVE LOAD LOCK LOOP OPEN OPTIMIZE PREPARE PURGE RELEASE RENAME REPAIR REPEAT REPLACE RESET RESIGNAL RETURN REVOKE
  ROLLBACK SAVEPOINT SELECT SET SHOW SHUTDOWN SIGNAL START STOP TABLE TRUNCATE UNINSTALL UNLOCK UNTIL UPDATE USE VALUES WHEN
  WHILE WITH XA`.split(/\s+/).filter(Boolean),
);

/** The object a CREATE/DROP/ALTER/RENAME names among its first words (before any `(`), as MySQL means it. */
export function objectOf(lead: string[]): string | undefined {
  const end = lead.indexOf('(');
  for (const w of lead.slice(1, end < 0 ? lead.length : end)) {
    const object = OBJECTS.get(w);
    if (object) return object;
  }
  return undefined;
}

/** A statement's command from its first words (`DROP TABLE`, `UPDATE`), for what no parser reads. */
export function commandFromWords(lead: string[]): string {
  const [first, second] = lead;
  if (!first || !/^[A-Z_]/.test(first)) return 'UNKNOWN';
  // `label: LOOP …` (a compound statement in a stored program or MariaDB's anonymous blocks).
  if (second === ':' && lead[2] !== '=' && lead.length > 2) return commandFromWords(lead.slice(2));
  if (['CREATE', 'DROP', 'ALTER', 'RENAME'].includes(first)) {
    const object = objectOf(lead);
    if (object === 'PREPARE') return first === 'DROP' ? 'DEALLOCATE PREPARE' : first;
    if (object) return `${first} ${object}`;
    // DROP of something these words do not name: read it as the DROP that loses data.
    return first === 'DROP' ? 'DROP TABLE' : first;
  }
  if (TABLE_MAINTENANCE.has(first) && lead.slice(1, 3).some((w) => w === 'TABLE' || w === 'TABLES')) return `${first} TABLE`;
  if (first === 'LOAD' && (second === 'DATA' || second === 'XML')) return `LOAD ${second}`;
  if ((first === 'DEALLOCATE' && second === 'PREPARE') || (first === 'EXECUTE' && second === 'IMMEDIATE')) return `${first} ${second}`;
  return first;
}
