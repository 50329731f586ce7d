#!/usr/bin/env node
// The `svid-bridge` executable: TypeScript sources run through tsx's ESM loader, so there
// is no build step between editing lib/cli and running it.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../lib/cli/main.ts");
process.exitCode = await main(process.argv);
