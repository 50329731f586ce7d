/**
 * The CDK app that `cdk synth` / `cdk deploy` run (cdk.json). It builds the extension's
 * layer zip first (so the deployed layer is never stale), then one SvidBridgeStack
 * configured by context values; see README, "Deploying with CDK".
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { configFromContext, SvidBridgeStack } from "../lib/cdk/svid-bridge-stack.js";
import { buildLayer } from "../scripts/build-layer.js";

const app = new App();
await buildLayer();
const stackName = (app.node.tryGetContext("stackName") as string | undefined) ?? "SvidBridge";
new SvidBridgeStack(app, stackName, configFromContext(app.node), {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// cdk-nag's AwsSolutions pack: an unacknowledged finding fails synth (and deploy).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
