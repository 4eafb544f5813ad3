import { describe, expect, it } from 'vitest';
import { cutLabel, cutText, fitBlocks, fitModal, totalText } from '../../src/bot/slack-limits.js';
import { checkMessage, checkView } from '../fakes/slack-block-rules.js';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('cutText', () => {
  it('leaves a text within the limit as it is', () => {
    expect(cutText('short', 10)).toBe('short');
    expect(cutText('x'.repeat(10), 10)).toBe('x'.repeat(10));
  });

  it('cuts to the limit including a notice that says how much was shown and where the rest is', () => {
    for (const [length, limit] of [[3001, 3000], [5000, 2000], [100_000, 1500], [400, 300]]) {
      const out = cutText('y'.repeat(length), limit, '`hoop get review R`', 'reason');
      expect(out.length).toBeLessThanOrEqual(limit);
      expect(out).toMatch(new RegExp(`reason cut: \\d+ of ${length} characters shown; all of it: \`hoop get review R\``));
      expect(out.startsWith('y'.repeat(limit / 2))).toBe(true);
    }
  });

  it('never splits a surrogate pair or an HTML entity of escaped mrkdwn', () => {
    const emoji = cutText('🙂'.repeat(2000), 1001);
    expect(emoji).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    for (const offset of [0, 1, 2, 3, 4]) {
      const out = cutText('a'.repeat(offset) + '&amp;'.repeat(1000), 500);
      expect(out.replace(/…[\s\S]*$/, '')).toMatch(/^(a*)(&amp;)*$/);
    }
  });
});

describe('cutLabel', () => {
  it('cuts a button label to 75 characters with a visible ellipsis', () => {
    const out = cutLabel(`Approve for ${'g'.repeat(100)}`, 75);
    expect(out).toHaveLength(75);
    expect(out.endsWith('…')).toBe(true);
    expect(cutLabel('Reject', 75)).toBe('Reject');
  });
});

describe('fitBlocks', () => {
  it('makes every block a strict Slack accepts, whatever was too long or too many', () => {
    const blocks = [
      section('s'.repeat(3001)),
      { type: 'section', fields: Array.from({ length: 14 }, (_, i) => ({ type: 'mrkdwn', text: `${i}`.repeat(2500) })) },
      { type: 'context', elements: Array.from({ length: 12 }, () => ({ type: 'mrkdwn', text: 'c'.repeat(3500) })) },
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(200) } },
      { type: 'section', block_id: 'b'.repeat(300), text: { type: 'mrkdwn', text: 'id too long' } },
      { type: 'actions', elements: [
        { type: 'button', action_id: 'ok', text: { type: 'plain_text', text: 't'.repeat(90) }, value: 'v' },
        { type: 'button', action_id: 'too-long-value', text: { type: 'plain_text', text: 'x' }, value: 'v'.repeat(2001) },
        { type: 'button', action_id: 'a'.repeat(256), text: { type: 'plain_text', text: 'x' }, value: 'v' },
      ] },
      { type: 'actions', elements: [{ type: 'button', action_id: 'only', text: { type: 'plain_text', text: 'x' }, value: 'v'.repeat(5000) }] },
    ];
    const fitted = fitBlocks(blocks, 'message', '`hoop get review R`');
    expect(checkMessage({ text: 'fallback', blocks: fitted })).toBeNull();
    expect(totalText(fitted)).toBeLessThanOrEqual(11_000);
    expect((fitted[1] as any).fields).toHaveLength(10);
    expect((fitted[1] as any).fields[9].text).toContain('5 more fields not shown');
    expect((fitted[2] as any).elements).toHaveLength(10);
    expect((fitted[4] as any).block_id).toBeUndefined();
    expect((fitted[5] as any).elements.map((e: any) => e.action_id)).toEqual(['ok']);
    // An actions block left without any button is dropped rather than sent empty.
    expect(fitted).toHaveLength(6);
    expect(JSON.stringify(fitted[0])).toContain('text cut');
  });

  it('keeps at most 50 blocks in a message and 100 in a modal, saying how many were left out', () => {
    const many = Array.from({ length: 130 }, (_, i) => section(`block ${i}`));
    const message = fitBlocks(many, 'message', 'HINT');
    expect(message).toHaveLength(50);
    expect(JSON.stringify(message.at(-1))).toContain('81 more blocks not shown; everything: HINT');
    expect(checkMessage({ text: 'x', blocks: message })).toBeNull();
    const modal = fitBlocks(many, 'modal');
    expect(modal).toHaveLength(100);
    expect(JSON.stringify(modal.at(-1))).toContain('31 more blocks not shown');
  });
});

describe('fitModal', () => {
  it('cuts title, submit and close to 24 characters and refuses over-long private metadata', () => {
    const view = fitModal({
      type: 'modal',
      title: { type: 'plain_text', text: 'A title far longer than twenty-four characters' },
      submit: { type: 'plain_text', text: 'Submit with a very long label' },
      close: { type: 'plain_text', text: 'Close with a very long label' },
      private_metadata: '{}',
      blocks: [section('m'.repeat(4000))],
    });
    expect(checkView(view)).toBeNull();
    expect(view.title.text).toHaveLength(24);
    expect(() => fitModal({ type: 'modal', title: { type: 'plain_text', text: 't' }, private_metadata: 'p'.repeat(3001), blocks: [] })).toThrow(/private_metadata/);
  });
});

describe('totalText', () => {
  it('sums the texts of nested blocks', () => {
    expect(totalText([section('abc'), { type: 'section', fields: [{ type: 'mrkdwn', text: 'de' }] }, { type: 'divider' }])).toBe(5);
  });
});
