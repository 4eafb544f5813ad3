// Query parameters, checked once for every API route: a route declares what it accepts in
// `config.query`; anything unknown, repeated or malformed gets a 400 that lists what the route
// accepts. A route that declares nothing accepts no query parameters.
import type { FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../errors.js';

export type ParamSpec =
  | { type: 'enum'; values: readonly string[] }
  | { type: 'list'; values: readonly string[] }
  | { type: 'int'; min: number; max: number; hint?: string }
  | { type: 'number'; min: number; hint?: string }
  | { type: 'boolean' }
  | { type: 'string'; maxLength: number; hint: string; pattern?: RegExp; repeatable?: boolean };

export type QuerySpec = Record<string, ParamSpec>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The query parameters the route accepts; none when absent. */
    query?: QuerySpec;
  }
}

function describe(name: string, p: ParamSpec): string {
  switch (p.type) {
    case 'enum':
      return `${name} (one of ${p.values.join(', ')})`;
    case 'list':
      return `${name} (comma-separated: ${p.values.join(', ')})`;
    case 'int':
      return `${name} (${p.hint ?? `an integer from ${p.min} to ${p.max}`})`;
    case 'number':
      return `${name} (${p.hint ?? `a number of at least ${p.min}`})`;
    case 'boolean':
      return `${name} (true or false)`;
    case 'string':
      return `${name} (${p.hint})`;
  }
}

/** "GET /api/reviews accepts: status (…), limit (…)." — the sentence every 400 ends with. */
export function acceptedSentence(route: string, spec: QuerySpec | undefined): string {
  const names = Object.keys(spec ?? {});
  if (names.length === 0) return `${route} takes no query parameters.`;
  return `${route} accepts: ${names.map((n) => describe(n, spec![n])).join('; ')}.`;
}

function parseOne(raw: string, p: ParamSpec): unknown {
  const v = raw.trim();
  switch (p.type) {
    case 'enum': {
      const found = p.values.find((x) => x.toLowerCase() === v.toLowerCase());
      return found ?? null;
    }
    case 'list': {
      const items = v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      return items.length > 0 && items.every((i) => p.values.includes(i)) ? [...new Set(items)] : null;
    }
    case 'int': {
      const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
      return Number.isSafeInteger(n) && n >= p.min && n <= p.max ? n : null;
    }
    case 'number': {
      const n = v === '' ? NaN : Number(v);
      return Number.isFinite(n) && n >= p.min ? n : null;
    }
    case 'boolean':
      return v === 'true' ? true : v === 'false' ? false : null;
    case 'string':
      return v !== '' && v.length <= p.maxLength && (!p.pattern || p.pattern.test(v)) ? v : null;
  }
}

/** The typed query of a request, or a BadInput naming what `route` accepts. */
export function parseQuery(route: string, query: unknown, spec: QuerySpec | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const given = (query ?? {}) as Record<string, unknown>;
  // Only an error needs the sentence saying what the route accepts.
  const accepted = () => acceptedSentence(route, spec);
  for (const [name, raw] of Object.entries(given)) {
    const p = spec && Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!p) throw new AppError(ErrorCode.BadInput, `Unknown query parameter "${name}". ${accepted()}`);
    // A repeatable one (`action=a&action=b`) reads as its comma list (`action=a,b`).
    const repeated = Array.isArray(raw) && p.type === 'string' && p.repeatable;
    if (Array.isArray(raw) && !repeated) throw new AppError(ErrorCode.BadInput, `The query parameter "${name}" was given ${raw.length} times; give it once. ${accepted()}`);
    const value = parseOne(repeated ? (raw as unknown[]).map(String).join(',') : String(raw ?? ''), p);
    if (value === null) throw new AppError(ErrorCode.BadInput, `"${String(raw).slice(0, 100)}" is not a valid value of the query parameter "${name}". ${accepted()}`);
    out[name] = value;
  }
  return out;
}

/** A preHandler that replaces `req.query` by its checked, typed form (see `config.query`). */
export async function checkQueryHook(req: FastifyRequest): Promise<void> {
  const route = `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`;
  req.query = parseQuery(route, req.query, req.routeOptions.config.query);
}
