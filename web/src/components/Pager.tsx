import { useState } from "react";

/** Back-and-forth through a listing the API pages with an opaque `next_cursor`. */
export function useCursorPager() {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const cursor = stack[stack.length - 1] ?? null;
  return {
    cursor,
    page: stack.length,
    next: (nextCursor: string) => setStack((s) => [...s, nextCursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([null]),
  };
}

export function Pager({
  page,
  hasNext,
  onNext,
  onPrevious,
  label,
}: {
  page: number;
  hasNext: boolean;
  onNext: () => void;
  onPrevious: () => void;
  label: string;
}) {
  if (page === 1 && !hasNext) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="button button--secondary button--small" onClick={onPrevious} disabled={page === 1}>
        Previous
      </button>
      <span aria-live="polite">Page {page}</span>
      <button type="button" className="button button--secondary button--small" onClick={onNext} disabled={!hasNext}>
        Next
      </button>
    </nav>
  );
}
