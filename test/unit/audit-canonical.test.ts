// The canonical form the audit hash chain hashes: it must be stable byte for byte.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CHAIN_FORMAT, chainedText, eventHash, GENESIS_HASH, type ChainedText } from '../../src/core/audit-canonical.js';
import { AUDIT_ACTIONS, isAuditAction } from '../../src/core/audit-actions.js';

const event: ChainedText = {
  chainSeq: '7',
  prevHash: GENESIS_HASH,
  chainHorizon: '1240',
  content: '{"id": "42", "ip": "127.0.0.1", "actor": "ann@example.com", "detail": {"b": "é\\"\\n"}}',
};

describe('chainedText', () => {
  it('is exactly these five lines (a verifier elsewhere must reproduce them)', () => {
    expect(chainedText(event)).toBe(`hoop-audit-chain/1\n7\n${'0'.repeat(64)}\n1240\n{"id": "42", "ip": "127.0.0.1", "actor": "ann@example.com", "detail": {"b": "é\\"\\n"}}`);
  });
  it('refuses a position or line that is not decimal and a link that is not 64 lowercase hex digits', () => {
    expect(() => chainedText({ ...event, chainSeq: '07' })).toThrow(/chainSeq/);
    expect(() => chainedText({ ...event, chainHorizon: '-1' })).toThrow(/chainHorizon/);
    expect(() => chainedText({ ...event, prevHash: 'F'.repeat(64) })).toThrow(/prevHash/);
    expect(() => chainedText({ ...event, prevHash: '0'.repeat(63) })).toThrow(/prevHash/);
  });
});

describe('eventHash', () => {
  it('is the hex sha256 of the UTF-8 bytes of chainedText', () => {
    expect(eventHash(event)).toBe(createHash('sha256').update(Buffer.from(chainedText(event), 'utf8')).digest('hex'));
    expect(CHAIN_FORMAT).toBe('hoop-audit-chain/1');
  });
  it('changes with the content, the chain position, the line and the link', () => {
    const base = eventHash(event);
    expect(eventHash({ ...event, content: event.content.replace('42', '43') })).not.toBe(base);
    expect(eventHash({ ...event, chainSeq: '8' })).not.toBe(base);
    expect(eventHash({ ...event, chainHorizon: '1241' })).not.toBe(base);
    expect(eventHash({ ...event, prevHash: 'f'.repeat(64) })).not.toBe(base);
  });
});

describe('audit action names', () => {
  it('are unique and known by isAuditAction', () => {
    expect(new Set(AUDIT_ACTIONS).size).toBe(AUDIT_ACTIONS.length);
    expect(isAuditAction('review.created')).toBe(true);
    expect(isAuditAction('review.craeted')).toBe(false);
  });
});
