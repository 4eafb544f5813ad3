// Review of i10 (`npm start` runs a bundle): bin/gateway.mjs and bin/hoop.mjs must never run a
// bundle older than a source file it was built from. Each launcher is copied into a scratch root
// with a stand-in bundle and stand-in sources, and we look at which of the two it ran.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A scratch root with `bin/<launcher>`, a bundle printing "bundle", and sources printing "sources". */
function scratch(launcher: 'gateway.mjs' | 'hoop.mjs', bundles: string[], entry: string, files: string[]) {
  const root = mkdtempSync(path.join(tmpdir(), 'hoop-bundle-'));
  roots.push(root);
  mkdirSync(path.join(root, 'bin'));
  cpSync(path.join(ROOT, 'bin', launcher), path.join(root, 'bin', launcher));
  cpSync(path.join(ROOT, 'bin', 'run-fresh.mjs'), path.join(root, 'bin', 'run-fresh.mjs'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  const write = (f: string, body: string) => {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), body);
  };
  const old = new Date(Date.now() - 3600_000);
  for (const f of files) {
    write(f, f === entry ? "console.log('sources');\n" : 'export {};\n');
    utimesSync(path.join(root, f), old, old);
  }
  for (const b of bundles) write(b, "console.log('bundle');\n");
  // What scripts/build.mjs writes next to each bundle: the sources it was built from.
  write(`dist/${launcher === 'hoop.mjs' ? 'hoop' : 'gateway'}.sources.json`, JSON.stringify(files));
  // Not execFileSync: it would hold the event loop, and the tests run at once (each in a root of its own).
  const run = async () => (await promisify(execFile)(process.execPath, [path.join(root, 'bin', launcher)], { encoding: 'utf8' })).stdout.trim();
  const touch = (f: string) => utimesSync(path.join(root, f), new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
  const add = (f: string) => write(f, 'export {};\n');
  return { run, touch, add, root };
}

describe.concurrent('bin/hoop.mjs', () => {
  // dist/hoop.mjs bundles src/sql (`hoop sql classify` is the gateway's classifier, locally).
  const files = ['src/cli/index.ts', 'src/cli/main.ts', 'src/contracts/review-view.ts', 'src/sql/classify-postgres.ts', 'src/sql/mysql-lexer.ts'];
  it('runs the bundle while it is newer than every source', async () => {
    expect(await scratch('hoop.mjs', ['dist/hoop.mjs'], 'src/cli/index.ts', files).run()).toBe('bundle');
  });
  for (const edited of ['src/cli/main.ts', 'src/sql/classify-postgres.ts', 'src/sql/mysql-lexer.ts']) {
    it(`runs the sources once ${edited} (bundled into dist/hoop.mjs) is newer than the bundle`, async () => {
      const s = scratch('hoop.mjs', ['dist/hoop.mjs'], 'src/cli/index.ts', files);
      s.touch(edited);
      expect(await s.run()).toBe('sources');
    });
  }
});

describe.concurrent('bin/run-fresh.mjs', () => {
  const files = ['src/cli/index.ts', 'src/cli/main.ts'];
  it('runs the sources when the list of sources is missing (a bundle of unknown make)', async () => {
    const s = scratch('hoop.mjs', ['dist/hoop.mjs'], 'src/cli/index.ts', files);
    rmSync(path.join(s.root, 'dist/hoop.sources.json'));
    expect(await s.run()).toBe('sources');
  });
  it('runs the sources when a source file was added after the build (its folder changed)', async () => {
    const s = scratch('hoop.mjs', ['dist/hoop.mjs'], 'src/cli/index.ts', files);
    expect(await s.run()).toBe('bundle');
    s.add('src/cli/new-command.ts');
    expect(await s.run()).toBe('sources');
  });
  it('runs the sources when a source file the bundle was built from is gone', async () => {
    const s = scratch('hoop.mjs', ['dist/hoop.mjs'], 'src/cli/index.ts', files);
    rmSync(path.join(s.root, 'src/cli/main.ts'));
    expect(await s.run()).toBe('sources');
  });
});

describe.concurrent('bin/gateway.mjs', () => {
  const files = ['src/main.ts', 'src/sql/classify-worker.ts', 'src/notify/teams/teams-card.ts', 'src/db/generated/client.ts'];
  const bundles = ['dist/gateway.mjs', 'dist/classify-worker.mjs'];
  it('runs the bundle while it is newer than every source', async () => {
    expect(await scratch('gateway.mjs', bundles, 'src/main.ts', files).run()).toBe('bundle');
  });
  for (const edited of ['src/notify/teams/teams-card.ts', 'src/db/generated/client.ts']) {
    it(`runs the sources once ${edited} is newer than the bundle`, async () => {
      const s = scratch('gateway.mjs', bundles, 'src/main.ts', files);
      s.touch(edited);
      expect(await s.run()).toBe('sources');
    });
  }
});
