// Slack's Block Kit limits, checked the way Slack's API checks them: a list of errors in Slack's
// own words ("must be less than 3001 characters [json-pointer:/blocks/2/text/text]"). Written from
// Slack's Block Kit reference independently of src/bot/slack-limits.ts, so a mistake in one is
// caught by the other.

type Json = Record<string, any>;

const MAX = {
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  headerText: 150,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  inputLabel: 2000,
  messageBlocks: 50,
  modalBlocks: 100,
  modalText: 24,
  privateMetadata: 3000,
  callbackId: 255,
  /** Slack truncates `text` beyond this; the fake refuses it (stricter, never laxer). */
  messageText: 40_000,
  /**
   * Slack refuses a message whose blocks hold too much text in total (`msg_blocks_too_long`).
   * Undocumented; Slack's developers quote about 12,000 characters (bolt-js issue #2509).
   */
  blocksTotalText: 12_000,
  /** A confirm dialog: title, text, and its two buttons. */
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
};

const tooLong = (limit: number, pointer: string) => `must be less than ${limit + 1} characters [json-pointer:${pointer}]`;
const tooMany = (limit: number, pointer: string) => `must provide no more than ${limit} items [json-pointer:${pointer}]`;

function text(errors: string[], obj: Json | undefined, limit: number, pointer: string, required = false): void {
  if (obj === undefined || obj === null) {
    if (required) errors.push(`missing required field: text [json-pointer:${pointer}]`);
    return;
  }
  if (typeof obj.text !== 'string' || (obj.type !== 'mrkdwn' && obj.type !== 'plain_text')) {
    errors.push(`failed to match all allowed schemas [json-pointer:${pointer}]`);
    return;
  }
  if (obj.text.length === 0) errors.push(`must be more than 0 characters [json-pointer:${pointer}/text]`);
  if (obj.text.length > limit) errors.push(tooLong(limit, `${pointer}/text`));
}

function id(errors: string[], value: unknown, limit: number, pointer: string): void {
  if (typeof value === 'string' && value.length > limit) errors.push(tooLong(limit, pointer));
}

/** A confirmation dialog (Block Kit's confirm object): plain-text title, confirm and deny; a text; an optional style. */
function confirm(errors: string[], c: Json, p: string): void {
  for (const [key, limit] of [['title', MAX.confirmTitle], ['confirm', MAX.confirmButton], ['deny', MAX.confirmButton]] as const) {
    if (c[key]?.type !== 'plain_text') errors.push(`failed to match all allowed schemas [json-pointer:${p}/${key}]`);
    text(errors, c[key], limit, `${p}/${key}`, true);
  }
  text(errors, c.text, MAX.confirmText, `${p}/text`, true);
  if (c.style !== undefined && c.style !== 'primary' && c.style !== 'danger') errors.push(`must be one of primary, danger [json-pointer:${p}/style]`);
}

function element(errors: string[], el: Json, p: string): void {
  id(errors, el.action_id, MAX.actionId, `${p}/action_id`);
  if (el.type === 'button') {
    if (el.text?.type !== 'plain_text') errors.push(`failed to match all allowed schemas [json-pointer:${p}/text]`);
    text(errors, el.text, MAX.buttonText, `${p}/text`, true);
    id(errors, el.value, MAX.buttonValue, `${p}/value`);
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') errors.push(`must be one of primary, danger [json-pointer:${p}/style]`);
  }
  if (el.type === 'plain_text_input') {
    // Slack: a text input holds at most 3000 characters, and its initial value fits its own limit.
    const max = typeof el.max_length === 'number' ? el.max_length : 3000;
    if (max > 3000) errors.push(`must be less than 3001 [json-pointer:${p}/max_length]`);
    if (typeof el.initial_value === 'string' && el.initial_value.length > max) errors.push(`must be less than ${max + 1} characters [json-pointer:${p}/initial_value]`);
  }
  if (el.confirm !== undefined) confirm(errors, el.confirm, `${p}/confirm`);
}

function block(errors: string[], b: Json, p: string): void {
  id(errors, b.block_id, MAX.blockId, `${p}/block_id`);
  switch (b.type) {
    case 'section':
      if (!b.text && !b.fields) errors.push(`must provide text or fields [json-pointer:${p}]`);
      text(errors, b.text, MAX.sectionText, `${p}/text`);
      if (Array.isArray(b.fields)) {
        if (b.fields.length > MAX.fields) errors.push(tooMany(MAX.fields, `${p}/fields`));
        b.fields.forEach((f: Json, i: number) => text(errors, f, MAX.fieldText, `${p}/fields/${i}`, true));
      }
      if (b.accessory) element(errors, b.accessory, `${p}/accessory`);
      break;
    case 'context':
      if (!Array.isArray(b.elements) || b.elements.length === 0) errors.push(`must provide at least 1 item [json-pointer:${p}/elements]`);
      else {
        if (b.elements.length > MAX.contextElements) errors.push(tooMany(MAX.contextElements, `${p}/elements`));
        b.elements.forEach((e: Json, i: number) => text(errors, e, MAX.contextText, `${p}/elements/${i}`, true));
      }
      break;
    case 'header':
      if (b.text?.type !== 'plain_text') errors.push(`failed to match all allowed schemas [json-pointer:${p}/text]`);
      text(errors, b.text, MAX.headerText, `${p}/text`, true);
      break;
    case 'actions':
      if (!Array.isArray(b.elements) || b.elements.length === 0) errors.push(`must provide at least 1 item [json-pointer:${p}/elements]`);
      else {
        if (b.elements.length > MAX.actionsElements) errors.push(tooMany(MAX.actionsElements, `${p}/elements`));
        b.elements.forEach((e: Json, i: number) => element(errors, e, `${p}/elements/${i}`));
      }
      break;
    case 'input':
      text(errors, b.label, MAX.inputLabel, `${p}/label`, true);
      if (b.element) element(errors, b.element, `${p}/element`);
      break;
    case 'divider':
      break;
    default:
      errors.push(`unsupported block type ${JSON.stringify(b.type)} [json-pointer:${p}]`);
  }
}

/** Sum of every `text` string in the blocks, as counted towards msg_blocks_too_long. */
export function blocksTotalText(blocks: unknown): number {
  let n = 0;
  const walk = (v: unknown, key?: string) => {
    if (typeof v === 'string' && key === 'text') n += v.length;
    else if (Array.isArray(v)) v.forEach((x) => walk(x));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(blocks);
  return n;
}

/** Slack's answer to a message (chat.postMessage, chat.update, chat.postEphemeral), or null when valid. */
export function checkMessage(args: Json): Json | null {
  if (typeof args.text === 'string' && args.text.length > MAX.messageText) return { ok: false, error: 'msg_too_long' };
  if (args.blocks === undefined) return args.text ? null : { ok: false, error: 'no_text' };
  const errors: string[] = [];
  if (!Array.isArray(args.blocks)) errors.push('must be an array [json-pointer:/blocks]');
  else {
    if (args.blocks.length > MAX.messageBlocks) errors.push(tooMany(MAX.messageBlocks, '/blocks'));
    args.blocks.forEach((b: Json, i: number) => block(errors, b, `/blocks/${i}`));
  }
  if (errors.length) return { ok: false, error: 'invalid_blocks', errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } };
  if (blocksTotalText(args.blocks) > MAX.blocksTotalText) return { ok: false, error: 'msg_blocks_too_long' };
  return null;
}

/** Slack's answer to views.open with an invalid view, or null when valid. */
export function checkView(view: Json | undefined): Json | null {
  const errors: string[] = [];
  if (!view || view.type !== 'modal') errors.push('failed to match all allowed schemas [json-pointer:/view]');
  else {
    text(errors, view.title, MAX.modalText, '/view/title', true);
    text(errors, view.submit, MAX.modalText, '/view/submit');
    text(errors, view.close, MAX.modalText, '/view/close');
    id(errors, view.private_metadata, MAX.privateMetadata, '/view/private_metadata');
    id(errors, view.callback_id, MAX.callbackId, '/view/callback_id');
    if (!Array.isArray(view.blocks)) errors.push('must be an array [json-pointer:/view/blocks]');
    else {
      if (view.blocks.length > MAX.modalBlocks) errors.push(tooMany(MAX.modalBlocks, '/view/blocks'));
      view.blocks.forEach((b: Json, i: number) => block(errors, b, `/view/blocks/${i}`));
    }
  }
  return errors.length ? { ok: false, error: 'invalid_arguments', response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } } : null;
}

/**
 * Slack's answer to views.publish with an invalid call, or null when valid: a `user_id`, and a
 * `view` object of type home (a JSON string on the wire) with at most 100 valid blocks.
 */
export function checkHomeView(args: Json): Json | null {
  const errors: string[] = [];
  // A user's id (U… or W…), never a channel's; the tests' made-up ids may hold underscores.
  if (typeof args.user_id !== 'string' || !/^[UW]\w+$/.test(args.user_id)) errors.push('invalid `user_id`');
  const view = args.view;
  if (!view || typeof view !== 'object' || Array.isArray(view)) errors.push('failed to match all allowed schemas [json-pointer:/view]');
  else if (view.type !== 'home') errors.push(`must be home for views.publish, not ${JSON.stringify(view.type)} [json-pointer:/view/type]`);
  else {
    for (const key of ['title', 'submit', 'close']) if (view[key] !== undefined) errors.push(`is not allowed for a home view [json-pointer:/view/${key}]`);
    id(errors, view.private_metadata, MAX.privateMetadata, '/view/private_metadata');
    id(errors, view.callback_id, MAX.callbackId, '/view/callback_id');
    if (!Array.isArray(view.blocks)) errors.push('must be an array [json-pointer:/view/blocks]');
    else {
      if (view.blocks.length > MAX.modalBlocks) errors.push(tooMany(MAX.modalBlocks, '/view/blocks'));
      view.blocks.forEach((b: Json, i: number) => block(errors, b, `/view/blocks/${i}`));
    }
  }
  return errors.length ? { ok: false, error: 'invalid_arguments', response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } } : null;
}
