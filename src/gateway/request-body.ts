// Reading JSON bodies: an empty body is `{}` (many clients send Content-Type: application/json
// with nothing), anything but an object is a 400, and so are unknown fields and wrong types,
// each with a sentence saying what is accepted.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../errors.js';

export type Body = Record<string, unknown>;

/**
 * The body as an object. With `fields`, any other field is refused: a typo such as "groups" for
 * "group" on approve must not silently approve every group.
 */
export function objectBody(req: FastifyRequest, fields?: readonly string[]): Body {
  const b = req.body;
  if (b === undefined || b === '') return {};
  const route = `${req.method} ${req.routeOptions.url ?? req.url}`;
  const example = fields?.length ? ` It accepts: ${fields.join(', ')}.` : '';
  if (b === null || typeof b !== 'object' || Array.isArray(b)) {
    throw new AppError(ErrorCode.BadInput, `The body of ${route} must be a JSON object (got ${b === null ? 'null' : Array.isArray(b) ? 'an array' : typeof b}).${example}`);
  }
  if (fields) {
    const unknown = Object.keys(b).filter((k) => !fields.includes(k));
    if (unknown.length) throw new AppError(ErrorCode.BadInput, `${route} does not take ${unknown.map((k) => `"${k.slice(0, 50)}"`).join(', ')}.${example}`);
  }
  return b as Body;
}

/** A string field, or undefined when absent or null; BadInput for any other type. */
export function optionalString(b: Body, field: string): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AppError(ErrorCode.BadInput, `"${field}" must be a string (got ${Array.isArray(v) ? 'an array' : typeof v}).`);
  return v;
}

/** A number field, or undefined when absent or null; BadInput for any other type (the use case checks its range). */
export function optionalNumber(b: Body, field: string): number | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new AppError(ErrorCode.BadInput, `"${field}" must be a number (got ${Array.isArray(v) ? 'an array' : typeof v === 'number' ? String(v) : typeof v}).`);
  return v;
}

/**
 * Makes `app` parse JSON bodies only (anything else is a 415 that says to send JSON), reading an
 * empty (or all-blank) body as `{}`.
 */
export function acceptJsonBodiesOnly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if ((body as string).trim() === '') return done(null, {});
    return parseJson(req, body as string, done);
  });
}
