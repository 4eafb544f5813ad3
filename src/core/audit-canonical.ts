// What the audit hash chain hashes for one event, and the hash itself. It must never change once
// events are chained with it: a verifier elsewhere, years later, has to produce the same bytes.
// The form, documented in the README ("Audit trail: tamper evidence"), is five lines joined by
// "\n":
//   CHAIN_FORMAT                         (names this form: "hoop-audit-chain/1")
//   chainSeq                             (decimal)
//   prevHash                             (64 lowercase hex; the first event's is GENESIS_HASH)
//   chainHorizon                         (decimal)
//   content                              (PostgreSQL's own text of one jsonb object holding every
//                                         other column: see EVENT_CONTENT in src/db/audit-chain.ts)
// hash = lowercase hex sha256 of the UTF-8 bytes. The content is text PostgreSQL prints, so the
// database can recompute every hash itself (verify walks a million events in seconds, in SQL);
// jsonb's text form (keys ordered by length then bytes, ", " and ": ") is stable since 9.4.
// Pure: node:crypto only.
import { createHash } from 'node:crypto';

/** The prevHash of the first event in the chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The first line of every hashed text: the form's name and version. */
export const CHAIN_FORMAT = 'hoop-audit-chain/1';

/** Where an event sits in the chain, and its content text (EVENT_CONTENT). */
export interface ChainedText {
  chainSeq: string;
  prevHash: string;
  chainHorizon: string;
  content: string;
}

const DECIMAL = /^(0|[1-9]\d*)$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** The text one event's hash is taken of (see the file header). Throws on fields that have no place in it. */
export function chainedText(e: ChainedText): string {
  for (const k of ['chainSeq', 'chainHorizon'] as const) {
    if (!DECIMAL.test(e[k])) throw new Error(`chainedText: ${k} ${e[k]} is not a decimal integer`);
  }
  if (!HEX64.test(e.prevHash)) throw new Error(`chainedText: prevHash ${e.prevHash} is not 64 lowercase hex digits`);
  return `${CHAIN_FORMAT}\n${e.chainSeq}\n${e.prevHash}\n${e.chainHorizon}\n${e.content}`;
}

/** The event's hash: hex sha256 of chainedText. */
export function eventHash(e: ChainedText): string {
  return createHash('sha256').update(chainedText(e), 'utf8').digest('hex');
}
