import type { ReactNode } from "react";

/** A table that may scroll sideways (at phone width): a named region that takes the keyboard focus, so
 * it can be scrolled without a mouse. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
