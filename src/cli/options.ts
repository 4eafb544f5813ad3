// Option parsers the command files share.
import { Option } from 'commander';

/** `a,b, c` → ['a', 'b', 'c']; an empty value is an empty list. */
export function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** `-o json|text` of every command that prints an object or a table. */
export function outputOption() {
  return new Option('-o, --output <format>', 'print JSON instead of text').choices(['json', 'text']).default('text');
}
