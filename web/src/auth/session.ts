import type { Account, Session, User } from "../api/types";

/** What the console keeps of a sign-in: the API's session (token, expiry, user, account). */
export interface StoredSession {
  token: string;
  expiresAt: string;
  user: User;
  account: Account;
}

const KEY = "wacast.session";
type Listener = (session: StoredSession | null, reason: SignOutReason | null) => void;
export type SignOutReason = "signed-out" | "expired";

/**
 * The signed-in session, kept in localStorage so it survives a reload (and is shared by the tabs of the
 * browser). The token is a JWT the API signs; the console never reads inside it.
 */
class SessionStore {
  private listeners = new Set<Listener>();
  private current: StoredSession | null = load();

  constructor() {
    if (typeof window !== "undefined") {
      window.addEventListener("storage", (event) => {
        if (event.key !== KEY) return;
        this.current = load();
        this.emit(this.current ? null : "signed-out");
      });
    }
  }

  /** The session, or null when there is none or it has expired (no side effect: safe during render). */
  get(): StoredSession | null {
    if (this.current && Date.parse(this.current.expiresAt) <= Date.now()) return null;
    return this.current;
  }

  /** Why the last session ended, for the sign-in page to say so. */
  lastReason: SignOutReason | null = null;

  token(): string | null {
    return this.get()?.token ?? null;
  }

  start(session: Session): StoredSession {
    this.lastReason = null;
    this.current = {
      token: session.token,
      expiresAt: session.expires_at,
      user: session.user,
      account: session.account,
    };
    localStorage.setItem(KEY, JSON.stringify(this.current));
    this.emit(null);
    return this.current;
  }

  /** The user and account as /api/auth/me now tells them (a role or the default sender may change). */
  refresh(user: User, account: Account): void {
    if (!this.current) return;
    this.current = { ...this.current, user, account };
    localStorage.setItem(KEY, JSON.stringify(this.current));
    this.emit(null);
  }

  clear(reason: SignOutReason): void {
    const had = this.current !== null;
    this.current = null;
    this.lastReason = reason;
    localStorage.removeItem(KEY);
    if (had) this.emit(reason);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(reason: SignOutReason | null): void {
    for (const listener of this.listeners) listener(this.current, reason);
  }
}

function load(): StoredSession | null {
  if (typeof localStorage === "undefined") return null;
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as StoredSession;
    return value && typeof value.token === "string" ? value : null;
  } catch {
    return null;
  }
}

export const sessions = new SessionStore();
