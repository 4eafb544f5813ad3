// Slack's Block Kit limits, and a last pass that makes any message or modal respect them. Slack
// refuses the whole call (`invalid_blocks`) when one text is a character too long, so a long
// reject reason or database error would otherwise keep a decided request's buttons alive.
// Sources: Slack's Block Kit reference (blocks, block elements, composition objects, modal views)
// and its 2018 changelog "Truncating really long messages" for the top-level `text`.

export const SLACK_LIMITS = {
  /** Section `text`, and any text object of a context block. */
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  headerText: 150,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  callbackId: 255,
  inputLabel: 2000,
  messageBlocks: 50,
  modalBlocks: 100,
  /** A Home tab view (views.publish). */
  homeBlocks: 100,
  /** Modal title, submit and close texts. */
  modalButtonText: 24,
  privateMetadata: 3000,
} as const;

/**
 * Our own ceilings, below Slack's. The top-level `text` is only the notification fallback; Slack
 * asks to keep messages under 4,000 characters. Slack also refuses a message whose blocks hold too
 * much text in total (`msg_blocks_too_long`, undocumented; its developers quote about 12,000), so
 * renderers keep the sum of a message's texts under `blocksTotalText`.
 */
export const OUR_LIMITS = { fallbackText: 3000, blocksTotalText: 11_000 } as const;

type Block = Record<string, any>;

/** Length as Slack's validator counts it (UTF-16 code units: never less than characters). */
export const slackLength = (text: string): number => text.length;

/** The first `max` code units of `text`, never splitting a surrogate pair. */
export function head(text: string, max: number): string {
  let out = text.slice(0, Math.max(0, max));
  if (/[\uD800-\uDBFF]$/.test(out)) out = out.slice(0, -1);
  return out;
}

/**
 * `text` cut to at most `limit` characters *including* a visible notice, never silently. The
 * notice says how much was shown and, with `hint`, where the whole text is.
 */
export function cutText(text: string, limit: number, hint?: string, what = 'text'): string {
  if (slackLength(text) <= limit) return text;
  const notice = (shown: number) => `… _(${what} cut: ${shown} of ${slackLength(text)} characters shown${hint ? `; all of it: ${hint}` : ''})_`;
  // The notice itself counts towards the limit; its digits barely change with `shown`.
  let shown = Math.max(0, limit - slackLength(notice(limit)));
  if (shown === 0) return head(`… (${what} cut)`, limit);
  // Never end inside an HTML entity of escaped mrkdwn (`&am`), which Slack would show as is.
  const kept = head(text, shown).replace(/&(?:a|am|amp|l|lt|g|gt)?$/, '');
  return kept + notice(kept.length);
}

/** A short plain label (buttons, titles) cut with an ellipsis: too small to hold a notice. */
export function cutLabel(text: string, limit: number): string {
  return slackLength(text) <= limit ? text : head(text, limit - 1) + '…';
}

/** The sum of the texts Slack counts towards a message's total. */
export function totalText(blocks: Block[]): number {
  let n = 0;
  const walk = (v: unknown, key?: string): void => {
    if (typeof v === 'string') {
      if (key === 'text') n += slackLength(v);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  walk(blocks);
  return n;
}

function fitTextObject(obj: Block | undefined, limit: number, hint?: string): void {
  if (!obj || typeof obj.text !== 'string') return;
  obj.text = obj.type === 'plain_text' && limit < 200 ? cutLabel(obj.text, limit) : cutText(obj.text, limit, hint);
}

function fitBlockId(block: Block): void {
  // A cut id could collide with another block's; Slack generates one when it is absent.
  if (typeof block.block_id === 'string' && slackLength(block.block_id) > SLACK_LIMITS.blockId) delete block.block_id;
}

/** Interactive elements whose ids or values do not fit are dropped: a cut id would route wrongly. */
function fitElement(el: Block): boolean {
  if (typeof el.action_id === 'string' && slackLength(el.action_id) > SLACK_LIMITS.actionId) return false;
  if (typeof el.value === 'string' && slackLength(el.value) > SLACK_LIMITS.buttonValue) return false;
  if (el.type === 'button') fitTextObject(el.text, SLACK_LIMITS.buttonText);
  return true;
}

function fitBlock(block: Block, hint?: string): Block {
  const b: Block = structuredClone(block);
  fitBlockId(b);
  if (b.type === 'section') {
    fitTextObject(b.text, SLACK_LIMITS.sectionText, hint);
    if (Array.isArray(b.fields)) {
      if (b.fields.length > SLACK_LIMITS.sectionFields) {
        const dropped = b.fields.length - SLACK_LIMITS.sectionFields + 1;
        b.fields = [...b.fields.slice(0, SLACK_LIMITS.sectionFields - 1), { type: 'mrkdwn', text: `_${dropped} more fields not shown${hint ? `; all of them: ${hint}` : ''}_` }];
      }
      for (const f of b.fields) fitTextObject(f, SLACK_LIMITS.fieldText, hint);
    }
    if (b.accessory && !fitElement(b.accessory)) delete b.accessory;
  } else if (b.type === 'context' && Array.isArray(b.elements)) {
    if (b.elements.length > SLACK_LIMITS.contextElements) {
      const dropped = b.elements.length - SLACK_LIMITS.contextElements + 1;
      b.elements = [...b.elements.slice(0, SLACK_LIMITS.contextElements - 1), { type: 'mrkdwn', text: `_${dropped} more not shown_` }];
    }
    for (const e of b.elements) fitTextObject(e, SLACK_LIMITS.sectionText, hint);
  } else if (b.type === 'header') {
    fitTextObject(b.text, SLACK_LIMITS.headerText);
  } else if (b.type === 'actions' && Array.isArray(b.elements)) {
    b.elements = b.elements.slice(0, SLACK_LIMITS.actionsElements).filter(fitElement);
  } else if (b.type === 'input') {
    fitTextObject(b.label, SLACK_LIMITS.inputLabel);
    if (b.element && typeof b.element.action_id === 'string' && slackLength(b.element.action_id) > SLACK_LIMITS.actionId) b.element.action_id = 'value';
  }
  return b;
}

/**
 * Every block of a message (or modal) within Slack's limits: texts cut with a visible notice,
 * too many fields or context elements folded into a notice, ids that do not fit dropped, and
 * blocks beyond the per-surface maximum replaced by one notice. `hint` tells where the whole text
 * is (e.g. "`hoop get review ID`").
 */
export function fitBlocks(blocks: Block[], surface: 'message' | 'modal' | 'home' = 'message', hint?: string): Block[] {
  const max = surface === 'modal' ? SLACK_LIMITS.modalBlocks : surface === 'home' ? SLACK_LIMITS.homeBlocks : SLACK_LIMITS.messageBlocks;
  let out = blocks.map((b) => fitBlock(b, hint)).filter((b) => !(b.type === 'actions' && b.elements?.length === 0));
  if (out.length > max) {
    const dropped = out.length - max + 1;
    out = [...out.slice(0, max - 1), { type: 'context', elements: [{ type: 'mrkdwn', text: `_${dropped} more blocks not shown${hint ? `; everything: ${hint}` : ''}_` }] }];
  }
  if (surface === 'message') fitTotal(out, hint);
  return out;
}

/** The mrkdwn texts of section texts, fields and context elements: the ones that may be cut. */
function cuttableTexts(blocks: Block[]): Block[] {
  return blocks.flatMap((b) => [b.text, ...(b.fields ?? []), ...(b.type === 'context' ? b.elements : [])]).filter((t) => t?.type === 'mrkdwn' && typeof t.text === 'string');
}

/** Cuts the longest texts, with notices, until the message's total text is within our ceiling. */
function fitTotal(blocks: Block[], hint?: string): void {
  for (let round = 0; round < 20; round++) {
    const excess = totalText(blocks) - OUR_LIMITS.blocksTotalText;
    if (excess <= 0) return;
    // A code block is cut by codeBlock with its fences kept; cutting it here would leave one open.
    const longest = cuttableTexts(blocks)
      .filter((t) => !t.text.includes('```'))
      .sort((a, b) => b.text.length - a.text.length)[0];
    if (!longest || longest.text.length <= 300) return;
    longest.text = cutText(longest.text, Math.max(300, longest.text.length - excess - 200), hint);
  }
}

/** A message's notification text within our ceiling (Slack shows it in notifications only). */
export function fitFallbackText(text: string): string {
  return cutText(text, OUR_LIMITS.fallbackText);
}

/**
 * A modal within Slack's limits: title, submit and close labels cut, blocks fitted. Its
 * `private_metadata` cannot be cut without breaking it, so an over-long one is a programming error.
 */
export function fitModal<V extends Block>(view: V): V {
  const v: Block = { ...view };
  for (const key of ['title', 'submit', 'close']) {
    if (v[key]) v[key] = { ...v[key], text: cutLabel(v[key].text, SLACK_LIMITS.modalButtonText) };
  }
  if (typeof v.private_metadata === 'string' && slackLength(v.private_metadata) > SLACK_LIMITS.privateMetadata) {
    throw new Error(`modal private_metadata is ${slackLength(v.private_metadata)} characters; Slack allows ${SLACK_LIMITS.privateMetadata}`);
  }
  if (typeof v.callback_id === 'string' && slackLength(v.callback_id) > SLACK_LIMITS.callbackId) throw new Error('modal callback_id is too long');
  v.blocks = fitBlocks(v.blocks ?? [], 'modal');
  return v as V;
}
