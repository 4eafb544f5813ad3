// The fingerprint of a command's output in the audit trail: an auditor holding the output (from the
// request, an export or a copy) checks it is the one the gateway stored, without the trail holding
// the output itself. Pure: node's hash only.
import { createHash } from 'node:crypto';

/** Lowercase hex sha256 of the output's UTF-8 bytes, exactly as stored; null when none is stored. */
export function outputSha256(output: string | null | undefined): string | null {
  return output === null || output === undefined ? null : createHash('sha256').update(output, 'utf8').digest('hex');
}

/** The same digest of a command as stored with its request (Review.input), for review.created. */
export function commandSha256(input: string): string {
  return createHash('sha256').update(input, 'utf8').digest('hex');
}
