import { useEffect, useSyncExternalStore } from "react";
import { sessions, type StoredSession } from "./session";

const subscribe = (listener: () => void) => sessions.subscribe(listener);
const snapshot = () => sessions.get();

/** The signed-in session (null when signed out); re-renders when it starts, changes or ends. */
export function useSession(): StoredSession | null {
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/** Ends the session when its token expires (the API would answer 401 from then on). */
export function useSessionExpiry(session: StoredSession | null): void {
  useEffect(() => {
    if (!session) return;
    const left = Date.parse(session.expiresAt) - Date.now();
    const timer = window.setTimeout(() => sessions.clear("expired"), Math.max(0, Math.min(left, 2_147_000_000)));
    return () => window.clearTimeout(timer);
  }, [session]);
}
