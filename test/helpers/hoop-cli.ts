// The `hoop` CLI as a person runs it: bin/hoop.mjs in a child process with its own HOME (no stored
// login), no colours, and the gateway and key from the environment.
import { spawn } from 'node:child_process';
import path from 'node:path';

export const HOOP_BIN = path.resolve('bin/hoop.mjs');

export interface HoopRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hoop args` against `apiUrl` with `key`, HOME set to `home`. */
export function runHoop(args: string[], opts: { apiUrl: string; key: string; home: string }): Promise<HoopRun> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '', HOME: opts.home, NO_COLOR: '1', HOOP_API_URL: opts.apiUrl, HOOP_API_KEY: opts.key };
    const child = spawn(process.execPath, [HOOP_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
