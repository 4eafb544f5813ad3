// The CLI's version, and the User-Agent it sends with it: the gateway records calls that carry it
// with the audit source `cli` (a label only; who acts is always the API key's user).

import { VERSION } from '../version.js';

/** The hoop CLI's version (`hoop --version`). */
export const CLI_VERSION = VERSION;

/** The User-Agent of every request the CLI makes. */
export const CLI_USER_AGENT = `hoop-cli/${CLI_VERSION}`;
