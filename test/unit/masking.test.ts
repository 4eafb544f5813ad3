import { describe, expect, it } from 'vitest';
import { maskResults as maskOutput } from '../../src/execution/output.js';
import { maskText, maskValue, type MaskingRules } from '../../src/sql/masking.js';

// Output masking with lineage that finds nothing derived: what is masked is masked by name or detector.
const maskResults = (results: Parameters<typeof maskOutput>[0], rules: MaskingRules) =>
  maskOutput(results, { rules, lineage: results.map((r) => ({ outputs: (r.columns ?? []).map(() => 0 as const), outputMax: 0 as const, reads: 0 as const, why: [] })) });

describe('maskText', () => {
  const all = ['email', 'phone', 'credit_card', 'ssn', 'iban', 'ip'] as const;
  const cases: [string, string][] = [
    ['alice@company.com', 'a***@company.com'],
    ['write to bob.smith@example.org today', 'write to b***@example.org today'],
    ['4111 1111 1111 1111', '****1111'],
    ['4111-1111-1111-1111', '****1111'],
    ['4111111111111111', '****1111'],
    ['123-45-6789', '***-**-6789'],
    ['DE89370400440532013000', 'DE****************3000'],
    ['GB82 WEST 1234 5698 7654 32', 'GB****************5432'],
    ['+14155552671', '***-***-2671'],
    ['(415) 555-2671', '***-***-2671'],
    ['from 192.168.10.20', 'from 192.168.*.*'],
  ];
  it.each(cases)('masks %s as %s', (input, expected) => {
    expect(maskText(input, all)).toBe(expected);
  });

  it('leaves what no enabled detector recognises', () => {
    expect(maskText('4111111111111112', all)).toBe('4111111111111112'); // fails Luhn
    expect(maskText('DE00370400440532013000', ['iban'])).toBe('DE00370400440532013000'); // bad check digits
    expect(maskText('999.1.1.1', ['ip'])).toBe('999.1.1.1');
    expect(maskText('alice@company.com', ['ssn'])).toBe('alice@company.com');
    expect(maskText('order 12345 shipped', all)).toBe('order 12345 shipped');
  });
});

describe('maskResults', () => {
  const results = [{ tag: 'SELECT 1', columns: [{ name: 'id', numeric: true }, { name: 'email', numeric: false }, { name: 'tax_ssn', numeric: false }, { name: 'note', numeric: false }], rows: [['1', 'ann@example.com', '123456789', 'call +14155552671']] }];

  it('masks whole columns by name or pattern and runs detectors on the others', () => {
    const [r] = maskResults(results, { columns: ['email', '*_ssn'], detectors: ['phone'] });
    expect(r.rows).toEqual([['1', 'a***@example.com', '****', 'call ***-***-2671']]);
  });

  it('changes nothing without rules, and leaves command tags alone', () => {
    expect(maskResults(results, { columns: [], detectors: [] })).toEqual(results);
    expect(maskResults([{ tag: 'UPDATE 1' }], { columns: ['x'], detectors: ['email'] })).toEqual([{ tag: 'UPDATE 1' }]);
  });

  it('masks a column value no detector knows as ****', () => {
    expect(maskValue('s3cret')).toBe('****');
  });
});
