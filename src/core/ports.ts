// The interfaces the rest of the gateway implements for the core and the use cases.

/** Where the use cases get the time: the system clock in production, one a test moves by hand. */
export interface Clock {
  now(): Date;
}
