#!/usr/bin/env node
// The `svid-bridge` executable: runs the compiled CLI in dist/ (`npm run build`; an
// installed package ships it built). No TypeScript loader at run time.
// `svid-bridge list | head`: a reader that goes away is not an error; stop quietly, as
// Unix tools do, instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
const entry = new URL("../dist/lib/cli/main.js", import.meta.url);
let cli;
try {
  cli = await import(entry.href);
} catch (error) {
  // Only dist/ itself missing (a clone before its first build) gets this hint.
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes(entry.pathname)) throw error;
  process.stderr.write("error usage: svid-bridge is not built (no dist/): run `npm run build` first\n");
  process.exit(1);
}
process.exitCode = await cli.main(process.argv);
