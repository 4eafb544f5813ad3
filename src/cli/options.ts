// Option parsers the command files share.
import { Option } from 'commander';
import { CliError, EXIT } from './exit-codes.js';

/** `a,b, c` → ['a', 'b', 'c']; an empty value is an empty list. */
export function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** `-o json|text` of every command that prints an object or a table. */
export function outputOption() {
  return new Option('-o, --output <format>', 'print JSON instead of text').choices(['json', 'text']).default('text');
}

/** A positive whole number (`--limit 50`); anything else is a usage error. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError(`"${value}" is not a positive whole number.`, EXIT.usage);
  return n;
}
