#!/usr/bin/env node
// The `svid-bridge` executable: TypeScript sources run through tsx's ESM loader, so there
// is no build step between editing lib/cli and running it.
import { register } from "tsx/esm/api";

register();
// `svid-bridge list | head`: a reader that goes away is not an error; stop quietly, as
// Unix tools do, instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
const { main } = await import("../lib/cli/main.ts");
process.exitCode = await main(process.argv);
