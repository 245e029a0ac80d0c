import type { ReactNode } from "react";
import { ApiError, messageOf } from "../api/errors";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

/** A failed load, with what to do about it. */
export function LoadError({ error, retry }: { error: unknown; retry?: () => void }) {
  const forbidden = error instanceof ApiError && error.status === 403;
  return (
    <div className="notice notice--error" role="alert">
      <p>
        {forbidden ? "Your role does not allow this. Ask an owner or admin of the account. " : null}
        {messageOf(error)}
      </p>
      {retry && !forbidden ? (
        <button type="button" className="button button--small" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** The problems of a form that no single field owns; focusable so a failed submit can land on it. */
export function FormError({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <div className="form-error notice notice--error" role="alert" tabIndex={-1}>
      {message}
    </div>
  );
}

export function Notice({ tone = "info", children, live = false }: { tone?: "info" | "success" | "warning" | "error"; children: ReactNode; live?: boolean }) {
  return (
    <div className={`notice notice--${tone}`} role={live ? "status" : undefined}>
      {children}
    </div>
  );
}
