// Error texts kept on connections that mask: only what the server words by itself, never a text a
// RAISE could shape around a value.
import { describe, expect, it } from 'vitest';
import { isFixedMessage } from '../../src/execution/output.js';

describe('isFixedMessage', () => {
  it.each([
    'cannot execute UPDATE in a read-only transaction',
    'cannot execute CREATE TABLE in a read-only transaction',
    'cannot execute CREATE MATERIALIZED VIEW in a read-only transaction',
    'cannot execute ALTER TEXT SEARCH CONFIGURATION in a read-only transaction',
    'cannot execute DROP FOREIGN DATA WRAPPER in a read-only transaction',
    'cannot execute nextval() in a read-only transaction',
    'canceling statement due to statement timeout',
    'Lock wait timeout exceeded; try restarting transaction',
  ])('keeps %j', (text) => {
    expect(isFixedMessage(text)).toBe(true);
  });

  it.each([
    'cannot execute ANN EXAMPLE in a read-only transaction',
    'cannot execute CREATE ANN in a read-only transaction',
    'cannot execute DROP ANN EXAMPLE in a read-only transaction',
    'cannot execute ALTER TABLE ANN in a read-only transaction',
    'cannot execute CREATE TABLE in a read-only transaction ann@example.com',
    'canceling statement due to statement timeout: ann',
  ])('withholds %j', (text) => {
    expect(isFixedMessage(text)).toBe(false);
  });
});
