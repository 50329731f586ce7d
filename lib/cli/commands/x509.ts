import { join } from "node:path";
import type { Command } from "commander";
import { FilesWriter } from "../../../layers/extension/src/files-writer.js";
import { createWorkloadKey } from "../../../layers/extension/src/workload-key.js";
import { x509Binding } from "../../proof/binding.js";
import { addExchangeOptions, type ExchangeFlags, exchangeTarget, requestSvids } from "../exchange-client.js";
import { prepareOutDir } from "../out-path.js";
import { type CliIo, writeJson } from "../output.js";

interface X509Flags extends ExchangeFlags {
  out: string;
  spiffeId?: string;
}

interface X509Answer {
  svids: { spiffe_id: string; certificate_chain: string; expires_at: number }[];
  bundle: string;
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("x509")
    .summary("get an X.509-SVID (key made here, never sent)")
    .description(
      "Makes an EC P-256 key and a CSR on this machine, proves your AWS identity bound to that " +
        "key, and writes svid.pem (leaf, then intermediates), svid_key.pem (PKCS#8, mode 0600) and " +
        "bundle.pem (the trust anchors) into --out, the names spiffe-helper uses.",
    )
    .requiredOption("--out <dir>", "directory for svid.pem, svid_key.pem and bundle.pem")
    .option("--spiffe-id <id>", "ask for this SPIFFE ID when several registrations match you");
  addExchangeOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge x509 --out .svid-bridge/svid
  $ openssl verify -CAfile .svid-bridge/svid/bundle.pem -untrusted .svid-bridge/svid/svid.pem .svid-bridge/svid/svid.pem`,
  );
  command.action(async (flags: X509Flags) => {
    const target = exchangeTarget(flags, io.env);
    // Before the request: an SVID the CLI cannot write would be issued and audited for nothing.
    await prepareOutDir(flags.out);
    const key = await createWorkloadKey();
    const { spiffeId } = flags;
    const binding = x509Binding({ csr: key.csrPem, ...(spiffeId && { spiffeId }) });
    const answer = await requestSvids<X509Answer>(
      target,
      "/v1/svid/x509",
      { csr: key.csrPem },
      spiffeId,
      binding,
    );
    const svid = answer.svids[0];
    if (!svid) throw new Error("the exchange answered with no SVID");
    // One generation swapped in whole, as the extension's files mode does (issue 14, fault 4's
    // kind): a reader of --out never pairs this key with an earlier run's certificate.
    await new FilesWriter({ dir: flags.out, tokenFiles: [] }).x509Changed({
      spiffeId: svid.spiffe_id,
      certificateChainPem: svid.certificate_chain,
      privateKeyPem: key.privateKeyPem,
      bundlePem: answer.bundle,
      expiresAt: svid.expires_at,
    });
    if (flags.json)
      writeJson(io.stdout, {
        spiffe_id: svid.spiffe_id,
        expires_at: svid.expires_at,
        files: ["svid.pem", "svid_key.pem", "bundle.pem"].map((f) => join(flags.out, f)),
      });
    else
      io.stdout.write(
        `${svid.spiffe_id}\nexpires ${new Date(svid.expires_at * 1000).toISOString()}\nwrote ${join(flags.out, "svid.pem")}, svid_key.pem, bundle.pem\n`,
      );
  });
  return command;
}
