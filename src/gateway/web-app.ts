// Serves the web app (web/, built by Vite into dist/web during `npm ci`) at `/`: its files are read
// once, at start, into memory (a few hundred KB), so no request path ever reaches the file system.
// Every page is index.html; the app's router shows the page of the path. Pages get a strict
// Content-Security-Policy: scripts, styles and requests to this origin only, nothing inline.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Paths of the gateway itself: never answered with a page. */
const NOT_PAGES = /^\/(api|auth|slack|healthz|readyz|metrics)(\/|$|\?)/;

/** Where the built app is: next to the bundle (dist/gateway.mjs → dist/web) or from the sources. */
function findWebDir(): string | undefined {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const candidate of [join(here, 'web'), join(here, '..', '..', 'dist', 'web')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return undefined;
}

function readTree(root: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const ext = name.slice(name.lastIndexOf('.'));
        const type = TYPES[ext];
        if (!type) continue;
        const body = readFileSync(full);
        files.set(`/${relative(root, full).split(sep).join('/')}`, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
      }
    }
  };
  walk(root);
  return files;
}

export interface WebApp {
  /** Where the built app was found (none: pages answer 503 saying how to build it). */
  dir: string | undefined;
  /** For the not-found handler: the app's page when a browser navigates to one of its paths. */
  pageFor(req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined;
}

/** Registers the app's files and pages on `app`; returns what it found. */
export function registerWebApp(app: FastifyInstance, options: { dir?: string } = {}): WebApp {
  const dir = options.dir ?? findWebDir();
  const files = dir ? readTree(dir) : new Map<string, WebFile>();
  const index = files.get('/index.html');

  const send = (req: FastifyRequest, reply: FastifyReply, file: WebFile, cache: string) => {
    reply.header('cache-control', cache).header('etag', file.etag).type(file.type);
    if (req.headers['if-none-match'] === file.etag) return reply.status(304).send();
    return reply.send(file.body);
  };

  const page = (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('content-security-policy', PAGE_CSP);
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (!index) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The web app is not built on this gateway. Run `npm run build` (npm ci does it) and restart the gateway; the API under /api works without it.');
    }
    // Always asked for afresh: a new deployment's page names its new asset files.
    return send(req, reply, index, 'no-cache');
  };

  for (const [path, file] of files) {
    if (path === '/index.html') continue;
    // Names under /assets carry a hash of their content: cached for good.
    const cache = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600';
    app.get(path, (req, reply) => send(req, reply, file, cache));
  }
  app.get('/', page);
  app.get('/index.html', page);

  return { dir, pageFor: (req, reply) => (wantsPage(req) ? page(req, reply) : undefined) };
}

/** A browser navigating to a path of the app (not the API's, not a file). */
export function wantsPage(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (NOT_PAGES.test(req.url)) return false;
  const path = req.url.split('?')[0];
  if (path.startsWith('/assets/')) return false;
  return (req.headers.accept ?? '').includes('text/html');
}
