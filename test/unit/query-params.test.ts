import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageOf } from '../../src/gateway/paging.js';
import { acceptedSentence, parseQuery, type QuerySpec } from '../../src/gateway/query-params.js';

const SPEC: QuerySpec = {
  status: { type: 'enum', values: ['pending', 'failed'] },
  include: { type: 'list', values: ['output', 'input'] },
  limit: { type: 'int', min: 1, max: 200 },
  wait: { type: 'number', min: 0 },
  overwrite: { type: 'boolean' },
  cursor: { type: 'string', maxLength: 10, hint: 'the nextCursor' },
};
const ROUTE = 'GET /x';
const parse = (q: Record<string, unknown>) => parseQuery(ROUTE, q, SPEC);

describe('parseQuery', () => {
  it('types every kind of parameter', () => {
    expect(parse({ status: 'FAILED', include: 'input, output,input', limit: '200', wait: '2.5', overwrite: 'false', cursor: 'abc' })).toEqual({
      status: 'failed', include: ['input', 'output'], limit: 200, wait: 2.5, overwrite: false, cursor: 'abc',
    });
    expect(parse({})).toEqual({});
  });

  it.each([
    [{ status: ['pending', 'failed'] }, 'The query parameter "status" was given 2 times; give it once.'],
    [{ nope: '1' }, 'Unknown query parameter "nope".'],
    [JSON.parse('{"__proto__": "1"}'), 'Unknown query parameter "__proto__"'],
    [{ constructor: '1' }, 'Unknown query parameter "constructor"'],
    [{ status: 'done' }, '"done" is not a valid value of the query parameter "status".'],
    [{ include: 'output,secret' }, '"include"'],
    [{ include: '' }, '"include"'],
    [{ limit: '0' }, '"limit"'],
    [{ limit: '1e2' }, '"limit"'],
    [{ limit: '9007199254740993' }, '"limit"'],
    [{ wait: '-0.5' }, '"wait"'],
    [{ wait: 'NaN' }, '"wait"'],
    [{ overwrite: 'TRUE ' + 'x' }, '"overwrite"'],
    [{ cursor: 'x'.repeat(11) }, '"cursor"'],
  ])('refuses %j, naming what the route accepts', (query, message) => {
    expect(() => parse(query)).toThrow(message);
    expect(() => parse(query)).toThrow(acceptedSentence(ROUTE, SPEC));
  });

  it('says when a route takes no parameters', () => {
    expect(() => parseQuery('GET /api/me', { a: '1' }, undefined)).toThrow('GET /api/me takes no query parameters.');
    expect(parseQuery('GET /api/me', {}, undefined)).toEqual({});
  });
});

describe('cursors', () => {
  const valid = [(s: string) => s.length > 0, (s: string) => /^\d+$/.test(s)];

  it('round-trip, and belong to one list', () => {
    const c = encodeCursor('things', ['a', '1']);
    expect(decodeCursor('things', c, valid)).toEqual(['a', '1']);
    expect(() => decodeCursor('others', c, valid)).toThrow('not one this gateway issued for others');
  });

  it.each([
    ['garbage', '!!'],
    ['JSON of another shape', Buffer.from('{"v":2}').toString('base64url')],
    ['a failed part check', encodeCursor('things', ['a', 'b'])],
    ['a missing part', encodeCursor('things', ['a'])],
  ])('refuse %s', (_what, c) => {
    expect(() => decodeCursor('things', c, valid)).toThrow('nextCursor of the previous page');
  });

  it('are given only when a row beyond the page was read', () => {
    expect(pageOf('things', [1, 2], 2, (n) => [String(n)])).toEqual({ page: [1, 2], nextCursor: null });
    const more = pageOf('things', [1, 2, 3], 2, (n) => [String(n)]);
    expect(more.page).toEqual([1, 2]);
    expect(decodeCursor('things', more.nextCursor!, [() => true])).toEqual(['2']);
  });
});
