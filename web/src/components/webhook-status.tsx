// A webhook endpoint's state and a delivery's status, in words.
import type { WebhookView } from '../../../src/contracts/admin-views.ts';
import { Time } from './common.tsx';

const DELIVERY_WORDS: Record<string, { word: string; css: string }> = {
  pending: { word: 'Pending', css: 'pending' },
  failed: { word: 'Failed', css: 'failed' },
  succeeded: { word: 'Delivered', css: 'executed' },
  gave_up: { word: 'Gave up', css: 'rejected' },
};

/** A delivery's status as a word. */
export function DeliveryStatus({ status }: { status: string }) {
  const w = DELIVERY_WORDS[status] ?? { word: status, css: 'expired' };
  return <span className={`status status-${w.css}`}>{w.word}</span>;
}

/** Enabled, or disabled with why and since when; and failing since when, if it is. */
export function EndpointState({ hook }: { hook: WebhookView }) {
  if (!hook.enabled) {
    return (
      <>
        <span className="status status-failed">Disabled</span>
        <span className="hint block">
          {hook.disabledReason ?? 'no reason recorded'}
          {hook.disabledAt && (
            <>
              , <Time iso={hook.disabledAt} />
            </>
          )}
        </span>
      </>
    );
  }
  return (
    <>
      <span className="status status-executed">Enabled</span>
      {hook.failingSince && (
        <span className="hint block warning">
          failing since <Time iso={hook.failingSince} />
        </span>
      )}
    </>
  );
}
