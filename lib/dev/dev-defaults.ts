/**
 * The dev bridge's fixed names, apart from dev-stack.ts so the CLI can name them in
 * `--help` without loading the stack (and dynalite with it): `token`, `list` and
 * `--help` start without the dev-only dependencies.
 */

export const DEV_TABLES = {
  registrations: "svid-bridge-registrations",
  keySet: "svid-bridge-keys",
  replay: "svid-bridge-replay",
} as const;

/** The dev principal: a role session in the AWS documentation's example account. */
export const DEV_ROLE = { account: "111122223333", roleName: "svid-bridge-dev", sessionName: "dev" } as const;
export const DEMO_ENTRY_ID = "dev-demo";

/** The Lambda handlers `svid-bridge invoke` runs. */
export const DEV_LAMBDAS = ["exchange", "discovery", "rotation"] as const;
export type DevLambda = (typeof DEV_LAMBDAS)[number];
