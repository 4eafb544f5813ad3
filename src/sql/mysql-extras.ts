// What a MySQL/MariaDB statement runs beyond its command: `CREATE OR REPLACE` drops what it replaces,
// `REPLACE` deletes the rows its new rows collide with, `INSERT … ON DUPLICATE KEY UPDATE` updates them,
// `ALTER TABLE … TRUNCATE PARTITION` truncates; `BINLOG`, `INSTALL` and init_connect run what no one can
// read here.
import type { MysqlCode } from './mysql-code.js';
import { objectOf } from './mysql-commands.js';
import type { Found } from './mysql-found.js';
import { stringValue } from './mysql-literals.js';
import type { MysqlLexOptions } from './mysql-mode.js';
import type { MysqlStatement } from './mysql-split.js';

/** Adds to `f` what statement `s` runs beyond its command; `code` gives its tokens when needed. */
export function extrasOf(s: MysqlStatement, f: Found, code: () => MysqlCode, variables: Map<string, string>, options: MysqlLexOptions): void {
  const [first, second, third] = s.lead;
  if (first === 'CREATE' && second === 'OR' && third === 'REPLACE') {
    // MariaDB drops the existing object first: for a table, with all its rows.
    const object = objectOf(s.lead) ?? 'TABLE';
    f.nested.push({ command: `DROP ${object}`, unboundedWrite: false });
    f.reasons.push(`CREATE OR REPLACE drops any existing ${object.toLowerCase()} of that name first${object === 'TABLE' ? ', with its rows' : ''}`);
  } else if (first === 'REPLACE') {
    f.nested.push({ command: 'DELETE', unboundedWrite: false });
    f.reasons.push('REPLACE deletes every row that has the same primary or unique key as a new row, then inserts');
  } else if (first === 'INSERT') {
    const c = code();
    const at = c.find(0, ['DUPLICATE']);
    if (at > 0 && c.is(at - 1, 'ON') && c.is(at + 1, 'KEY') && c.is(at + 2, 'UPDATE')) {
      f.nested.push({ command: 'UPDATE', unboundedWrite: false });
      f.reasons.push('ON DUPLICATE KEY UPDATE updates every row that has the same primary or unique key as a new row');
    }
  } else if (first === 'LOAD') {
    const c = code();
    const replace = c.find(0, ['REPLACE', 'INTO']);
    if (replace >= 0 && c.is(replace, 'REPLACE')) {
      f.nested.push({ command: 'DELETE', unboundedWrite: false });
      f.reasons.push('LOAD … REPLACE deletes every row that has the same primary or unique key as a loaded row');
    }
  } else if (first === 'ALTER') {
    const c = code();
    // ALTER TABLE clauses that throw rows away without saying DELETE or DROP TABLE.
    for (let k = 0; k < c.length; k++) {
      if (c.is(k, 'TRUNCATE') && c.is(k + 1, 'PARTITION')) {
        f.nested.push({ command: 'TRUNCATE', unboundedWrite: false });
        f.reasons.push('TRUNCATE PARTITION deletes every row of the partitions it names');
        break;
      }
      if (c.is(k, 'DISCARD') && (c.is(k + 1, 'TABLESPACE') || (c.is(k + 1, 'PARTITION') && c.find(k + 2, ['TABLESPACE']) >= 0))) {
        f.nested.push({ command: 'TRUNCATE', unboundedWrite: false });
        f.reasons.push("DISCARD TABLESPACE deletes the table's data file, and every row with it");
        break;
      }
      if (c.is(k, 'DROP') && c.is(k + 1, 'PARTITION')) {
        f.nested.push({ command: 'DROP TABLE', unboundedWrite: false });
        f.reasons.push('DROP PARTITION deletes every row of the partitions it names');
        break;
      }
    }
  } else if (first === 'BINLOG') {
    f.unchecked.push('BINLOG replays binary-log events, whose changes the gateway cannot read');
  } else if (first === 'HANDLER') {
    const c = code();
    const table = c.name(1);
    if (table !== undefined && !f.tables.length) f.tables.push(table);
    f.reasons.push('HANDLER reads rows of a table directly, not through a query the gateway can check');
  } else if (first === 'INSTALL') {
    f.unchecked.push('INSTALL loads a plugin, native code the gateway cannot read');
  } else if (first === 'SET') {
    const c = code();
    trackVariable(c, variables, options);
    for (let k = 1; k < c.length; k++) {
      if (c.is(k, 'INIT_CONNECT')) {
        f.unchecked.push('init_connect holds SQL the server runs for every client that connects, which the gateway does not check');
        break;
      }
    }
  }
}

/** `SET @q = '…'` (one variable, string literals only): what a later `PREPARE s FROM @q` would likely run. */
function trackVariable(c: MysqlCode, variables: Map<string, string>, options: MysqlLexOptions): void {
  if (!c.op(1, '@') || c.name(2) === undefined) return;
  const name = c.name(2)!.toLowerCase();
  let k = 3;
  if (c.op(k, ':')) k++;
  if (!c.op(k, '=')) return;
  const parts: string[] = [];
  for (k++; k < c.length && c.token(k)?.type === 'string'; k++) parts.push(stringValue(c.text(k), options));
  if (k === c.length && parts.length) variables.set(name, parts.join(''));
  else variables.delete(name);
}
