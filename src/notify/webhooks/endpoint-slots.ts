// How many deliveries of one endpoint are in flight at once. The port is here; its Redis adapter is
// src/jobs/endpoint-slots-redis.ts.

/**
 * Slots of each endpoint's attempts in flight, shared by every gateway process: a count kept in one
 * process would let each of several gateways send N at once.
 */
export interface EndpointSlots {
  /** The most attempts in flight per endpoint. */
  readonly max: number;
  /** Takes one of the endpoint's slots for `holder` for at most `leaseMs`; false when all are taken. */
  acquire(endpointId: string, holder: string, leaseMs: number): Promise<boolean>;
  /** Gives the slot back (a slot not given back lapses at the end of its lease). */
  release(endpointId: string, holder: string): Promise<void>;
}
