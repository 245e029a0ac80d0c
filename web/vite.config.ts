/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the console with hot reload and sends the API's paths to a running local stack
// (`make run`: http://127.0.0.1:3000), as the stack's own proxy and CloudFront do (docs/console.md).
const api = process.env.WACAST_API ?? "http://127.0.0.1:3000";
const toApi = { target: api, changeOrigin: true };

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 700 },
  server: {
    host: "127.0.0.1",
    proxy: { "/api": toApi, "/docs": toApi, "/openapi.json": toApi, "/health": toApi },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.{ts,tsx}"],
          environment: "jsdom",
          setupFiles: ["tests/unit/setup.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: ["tests/browser/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/browser/stack.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
