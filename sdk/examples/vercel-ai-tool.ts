/**
 * Guarding Vercel AI SDK tools with aiegis: every call a model makes to `runShell` or
 * `readFile` is first judged by the gateway; a BLOCK never reaches the shell or the disk.
 *
 *   import { generateText, stepCountIs } from "ai";
 *   const aiegis = new Aiegis({ baseUrl: "https://aiegis.example.com", apiKey: process.env.AIEGIS_KEY });
 *   const { text } = await generateText({
 *     model, tools: guardedTools(aiegis), stopWhen: stepCountIs(5),
 *     prompt: "Summarise README.md",
 *   });
 *
 * A BlockedError thrown by `execute` becomes a tool-error result the model sees, with the
 * gateway's reason, so it can try something else instead of the run crashing.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { tool } from "ai";
import { z } from "zod";
import { type Aiegis, guard, type ProtectResult } from "../src/index.js";

export type ShellInput = { command: string };
export type ReadFileInput = { path: string };

/** The tools' real work; tests pass their own to see whether a tool ran. */
export type ToolImplementations = {
  runShell: (input: ShellInput) => Promise<string>;
  readFile: (input: ReadFileInput) => Promise<string>;
};

const run = promisify(execFile);

export const defaultImplementations: ToolImplementations = {
  runShell: async ({ command }) => (await run("sh", ["-c", command], { timeout: 10_000 })).stdout,
  readFile: ({ path }) => readFile(path, "utf8"),
};

/** The two tools, each wrapped in guard(); `onWarn` could ask a human and throw to refuse. */
export function guardedTools(
  aiegis: Aiegis,
  impl: ToolImplementations = defaultImplementations,
  onWarn: (result: ProtectResult) => void = (result) =>
    console.warn(`aiegis WARN ${result.request_id}: ${result.threats_found[0]?.message}`),
) {
  return {
    runShell: tool({
      description: "Run a shell command in the project directory and return its output",
      inputSchema: z.object({ command: z.string().describe("The command line to run") }),
      execute: guard(aiegis, impl.runShell, {
        toAction: ({ command }) => ({ action: "shell_exec", target: command }),
        onWarn,
        timeoutMs: 5_000,
      }),
    }),
    readFile: tool({
      description: "Read a UTF-8 text file",
      inputSchema: z.object({ path: z.string().describe("Path relative to the project") }),
      execute: guard(aiegis, impl.readFile, {
        toAction: ({ path }) => ({ action: "read_file", target: path }),
        onWarn,
        timeoutMs: 5_000,
      }),
    }),
  };
}
