/**
 * The CDK app that `cdk synth` / `cdk deploy` run (cdk.json). Until the CDK issue lands
 * it only proves the toolchain: an app with no stacks.
 */
import { App } from "aws-cdk-lib";

const app = new App();
app.synth();
