import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useSession } from "./useSession";

/** Signed-in pages: without a session (never signed in, signed out, or a 401), back to sign-in, then here. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (!session) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={next === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}

/** Where to go after signing in: the `next` the sign-in page was sent with, if it is one of ours. */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
