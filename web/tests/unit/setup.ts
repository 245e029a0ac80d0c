import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, vi } from "vitest";
import { sessions } from "../../src/auth/session";

afterEach(() => {
  cleanup();
  sessions.clear("signed-out");
  sessions.lastReason = null;
  localStorage.clear();
  vi.unstubAllGlobals();
});
