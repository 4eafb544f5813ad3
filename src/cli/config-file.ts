// Where `hoop login` keeps the gateway URL and API key: ~/.hoop/config.json, mode 0600.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

export interface CliConfig {
  apiUrl: string;
  apiKey: string;
}

/** The config file path: $HOOP_CONFIG, or ~/.hoop/config.json. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOOP_CONFIG ?? path.join(env.HOME ?? homedir(), '.hoop', 'config.json');
}

function readFile(file: string): Partial<CliConfig> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<CliConfig>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}. Run hoop login again.`, EXIT.usage);
  }
}

/** The URL and key to use: HOOP_API_URL / HOOP_API_KEY override the file. */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const file = readFile(configPath(env));
  const apiUrl = env.HOOP_API_URL || file.apiUrl;
  const apiKey = env.HOOP_API_KEY || file.apiKey;
  if (!apiUrl || !apiKey) {
    throw new CliError('Not logged in: run hoop login --api-url URL --api-key KEY (or set HOOP_API_URL and HOOP_API_KEY).', EXIT.usage);
  }
  return { apiUrl: apiUrl.replace(/\/+$/, ''), apiKey };
}

/** Writes the config file readable by its owner only. */
export function saveCliConfig(config: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  const file = configPath(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
