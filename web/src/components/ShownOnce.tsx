import { useEffect, useRef, useState, type ReactNode } from "react";

/** A secret the API shows once (an API key, a webhook's signing secret): the text saying what it is, the
 * value, a copy button, and "I have stored it" to close it. It takes the focus, so a screen reader reads it. */
export function ShownOnce({
  value,
  copyLabel,
  onDone,
  className = "",
  children,
}: {
  value: string;
  copyLabel: string;
  onDone: () => void;
  className?: string;
  children: ReactNode;
}) {
  const [copied, setCopied] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className={`notice notice--success new-key ${className}`.trim()} role="status" tabIndex={-1} ref={ref}>
      <p>{children}</p>
      <p className="key-value">
        <code>{value}</code>
      </p>
      <div className="actions">
        <button
          type="button"
          className="button button--secondary button--small"
          onClick={async () => {
            await navigator.clipboard?.writeText(value).catch(() => undefined);
            setCopied(true);
          }}
        >
          {copied ? "Copied" : copyLabel}
        </button>
        <button type="button" className="button button--primary button--small" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </div>
  );
}
