/**
 * The CDK app that `cdk synth` / `cdk deploy` run (cdk.json). It reads and checks the
 * context first (a bad value is one line on stderr, exit 1, before any bundling), then
 * builds the extension's layer zip (so the deployed layer is never stale), then one
 * SvidBridgeStack; see README, "Deploying with CDK".
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { BridgeConfigError } from "../lib/cdk/check-props.js";
import { configFromContext, SvidBridgeStack } from "../lib/cdk/svid-bridge-stack.js";
import { buildLayer } from "../scripts/build-layer.js";

/** Context keys a user can give (`-c key=value`): plain camelCase, unlike CDK's own and feature flags. */
function givenContextKeys(app: App): string[] {
  return Object.keys(app.node.getAllContext()).filter((key) => /^[a-z][A-Za-z0-9]*$/.test(key));
}

try {
  const app = new App();
  const config = configFromContext(app.node, givenContextKeys(app));
  await buildLayer();
  const stackName = (app.node.tryGetContext("stackName") as string | undefined) ?? "SvidBridge";
  new SvidBridgeStack(app, stackName, config, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  // cdk-nag's AwsSolutions pack: an unacknowledged finding fails synth (and deploy).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
} catch (error) {
  if (!(error instanceof BridgeConfigError)) throw error;
  process.stderr.write(`svid-bridge: ${error.message}\n`);
  process.exit(1);
}
