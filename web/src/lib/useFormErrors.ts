import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, messageOf } from "../api/errors";

export interface FormErrors {
  fields: Record<string, string>;
  general: string | null;
}

/**
 * The errors of one form: each API problem next to the field it names (`fields`), the rest above the form
 * (`general`). After a failed submit the first invalid control gets the focus, so keyboard and screen
 * reader users land on the problem.
 */
export function useFormErrors(known: readonly string[] = []) {
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, general: null });
  const formRef = useRef<HTMLFormElement | null>(null);
  const [focusTick, setFocusTick] = useState(0);

  useEffect(() => {
    if (!focusTick || !formRef.current) return;
    const invalid = formRef.current.querySelector<HTMLElement>("[aria-invalid='true']");
    const banner = formRef.current.querySelector<HTMLElement>(".form-error");
    (invalid ?? banner)?.focus();
  }, [focusTick]);

  const fail = useCallback(
    (error: unknown, fieldMap: Record<string, string> = {}) => {
      if (error instanceof ApiError) {
        const fields: Record<string, string> = {};
        for (const [field, message] of Object.entries(error.fieldErrors())) fields[fieldMap[field] ?? field] = message;
        const knownFields = [...known, ...Object.keys(fieldMap)];
        const general = error.generalMessage(knownFields);
        setErrors({ fields, general: general ?? (Object.keys(fields).length ? null : error.message) });
      } else {
        setErrors({ fields: {}, general: messageOf(error) });
      }
      setFocusTick((n) => n + 1);
    },
    [known.join(",")],
  );

  const set = useCallback((fields: Record<string, string>, general: string | null = null) => {
    setErrors({ fields, general });
    if (Object.keys(fields).length || general) setFocusTick((n) => n + 1);
  }, []);

  const clear = useCallback(() => setErrors({ fields: {}, general: null }), []);
  const clearField = useCallback(
    (field: string) =>
      setErrors((current) => {
        if (!(field in current.fields)) return current;
        const fields = { ...current.fields };
        delete fields[field];
        return { ...current, fields };
      }),
    [],
  );

  /** The message for `field` or for any field under it (`pacing` covers `pacing.min_gap_ms`). */
  const of = useCallback(
    (field: string): string | undefined =>
      errors.fields[field] ?? Object.entries(errors.fields).find(([name]) => name.startsWith(`${field}.`))?.[1],
    [errors.fields],
  );

  return { errors, fail, set, clear, clearField, of, formRef };
}
