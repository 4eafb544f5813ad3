// Who is signed in, for every page: the session's user (its groups and admin flag decide which
// controls a page shows; the gateway decides again on every request).
import { createContext, useContext } from 'react';
import type { SessionInfo } from './api.ts';

export interface SessionContextValue {
  session: SessionInfo;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

/** The signed-in session; only pages under the signed-in layout call this. */
export function useSession(): SessionContextValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}
