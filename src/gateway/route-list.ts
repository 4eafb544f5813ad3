// Every route a server registers, as method and URL: the test that walks each route that changes
// something (test/integration/audit-complete.test.ts) reads it, so a new route without an audit
// case fails that test instead of going unnoticed.
import type { FastifyInstance } from 'fastify';

/** One registered route. */
export interface RouteEntry {
  method: string;
  url: string;
}

const lists = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Starts recording `app`'s routes; call it before any is registered (child scopes inherit the hook). */
export function trackRoutes(app: FastifyInstance): void {
  const list: RouteEntry[] = [];
  lists.set(app, list);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) list.push({ method: String(method).toUpperCase(), url: route.url });
  });
}

/** The routes `app` registered since trackRoutes (empty when it was not tracked). */
export function routesOf(app: FastifyInstance): readonly RouteEntry[] {
  return lists.get(app) ?? [];
}
