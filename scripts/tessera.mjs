#!/usr/bin/env node
// The `tessera` command (npx tessera ...). TypeScript sources run through tsx's loader so the CLI
// needs no build step in a clone; see scripts/cli/main.ts for the commands.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
