#!/usr/bin/env node
import { CommanderError } from "commander";
import { createProgram } from "./program.js";
import { reportError } from "./report-error.js";

async function main(argv: string[]): Promise<void> {
  const program = createProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help).
      process.exitCode = error.exitCode;
      return;
    }
    const verbose = program.opts().verbose === true || Boolean(process.env.DEBUG);
    process.exitCode = reportError(error, verbose);
  }
}

await main(process.argv);
