// Tells this process's audit chainer (audit-chain.ts) that an event was written, so it links it
// soon after the writing transaction commits instead of at its next timer. The writer cannot know
// when the caller's transaction commits; the chainer waits a little (debounce) and, whatever it
// finds still running then, its timer picks up later. A separate module so that the writer
// (audit.ts) does not import the chainer.

const listeners = new Set<() => void>();

/** Called by the writer after every audit INSERT. */
export function nudgeAuditChain(): void {
  for (const l of listeners) l();
}

/** The chainer's hook; returns what removes it. */
export function onAuditWritten(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
