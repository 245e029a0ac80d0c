// Vitest's global setup for the browser tests: starts the local stack with the console in front of it
// (web/tests/browser/local_stack.py) and hands its address to the tests; stops it afterwards.
// WACAST_CONSOLE_URL=http://127.0.0.1:3000 runs the tests against a stack that is already running instead.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    consoleUrl: string;
  }
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
let child: ChildProcess | null = null;

export default async function setup(project: TestProject) {
  const given = process.env.WACAST_CONSOLE_URL;
  if (given) {
    project.provide("consoleUrl", given.replace(/\/$/, ""));
    return;
  }
  if (!existsSync(resolve(ROOT, "web/dist/index.html"))) throw new Error("web/dist is not built: run `make web-build` first");
  const python = resolve(ROOT, ".venv/bin/python");
  child = spawn(python, ["web/tests/browser/local_stack.py"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error("the local stack did not start within 90 s")), 90_000);
    child?.once("exit", (code) => fail(new Error(`the local stack exited with ${code} before it was up`)));
    createInterface({ input: child!.stdout! }).on("line", (line) => {
      try {
        const started = JSON.parse(line) as { url: string };
        clearTimeout(timer);
        ready(started.url);
      } catch {
        // not the ready line
      }
    });
  });
  project.provide("consoleUrl", url);
  return async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<number | null>((done) => child?.once("exit", (code) => done(code)));
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((done) => {
      timer = setTimeout(() => done("timeout"), 90_000);
    });
    const code = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (code === "timeout") child.kill("SIGKILL");
    else if (code !== 0) throw new Error(`the local stack stopped with ${code} (an AWS call a role refused? see its output)`);
  };
}
