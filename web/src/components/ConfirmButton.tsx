import { useEffect, useRef, useState, type ReactNode } from "react";

interface ConfirmButtonProps {
  children: ReactNode;
  /** The question asked in place of the button, e.g. "Cancel this campaign?" */
  question: string;
  confirmLabel: string;
  onConfirm: () => void | Promise<unknown>;
  tone?: "danger" | "default";
  disabled?: boolean;
  className?: string;
}

/** A button for an action that cannot be undone: it asks first, in place (no modal), and keeps the focus. */
export function ConfirmButton({ children, question, confirmLabel, onConfirm, tone = "danger", disabled, className }: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);

  useEffect(() => {
    if (asking) confirmRef.current?.focus();
    else if (wasAsking.current) triggerRef.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <button
        ref={triggerRef}
        type="button"
        className={`button ${tone === "danger" ? "button--danger-outline" : "button--secondary"} ${className ?? ""}`}
        disabled={disabled}
        onClick={() => setAsking(true)}
      >
        {children}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span className="confirm-question">{question}</span>
      <button
        ref={confirmRef}
        type="button"
        className={`button button--small ${tone === "danger" ? "button--danger" : "button--primary"}`}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="button button--small button--secondary" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}
