#!/usr/bin/env node
// The `tessera` command (npx tessera ...). TypeScript sources run through tsx's loader so the CLI
// needs no build step in a clone; see scripts/cli/main.ts for the commands.
import { register } from "tsx/esm/api";

register();
// A reader that stops early (`tessera ticket verify … | head`) closes the pipe: that is not an
// error of the command, so end quietly instead of dying on EPIPE.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});
const { main } = await import("./cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
