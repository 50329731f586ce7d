/**
 * Runs the rotation Lambda once when the stack is created (and again when the key or CA
 * configuration changes), so the first signing key, and in intermediate mode the first
 * intermediate CA, exist when `cdk deploy` returns instead of at the first schedule tick.
 * A failed first rotation fails the deploy, which is where an operator sees it.
 *
 * The Provider framework answers CloudFormation; its onEvent function only invokes the
 * rotation Lambda. It does nothing on Delete: the keys and the key set outlive the stack
 * (see README, tearing down), and a rotation at teardown helps no one.
 */
import { CustomResource, Duration, type RemovalPolicy, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { acknowledge, logicalRef, nagArnPrefix } from "./acknowledge.js";
import { logStatements } from "./policies.js";

const ON_EVENT_SOURCE = `
const { LambdaClient, InvokeCommand } = require("@aws-sdk/client-lambda");
const client = new LambdaClient({});
exports.handler = async (event) => {
  if (event.RequestType === "Delete") return { PhysicalResourceId: event.PhysicalResourceId };
  const out = await client.send(new InvokeCommand({ FunctionName: process.env.ROTATION_FUNCTION, Payload: "{}" }));
  const payload = out.Payload ? Buffer.from(out.Payload).toString("utf8") : "";
  if (out.FunctionError) throw new Error("the first rotation failed: " + payload.slice(0, 2000));
  return { PhysicalResourceId: "svid-bridge-first-rotation" };
};
`;

export interface FirstRotationProps {
  rotation: lambda.IFunction;
  /** What, when it changes, deserves a rotation at deploy time (key manager, algorithm, CA). */
  trigger: Record<string, string>;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

export class FirstRotation extends Construct {
  readonly resource: CustomResource;
  readonly provider: cr.Provider;

  constructor(scope: Construct, id: string, props: FirstRotationProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "SVID Bridge: invoke the rotation once at deploy",
      inlinePolicies: {
        InvokeRotation: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: "InvokeRotation",
              actions: ["lambda:InvokeFunction"],
              resources: [props.rotation.functionArn],
            }),
            ...logStatements(Stack.of(this), logGroup.logGroupName),
          ],
        }),
      },
    });
    const onEvent = new lambda.Function(this, "OnEvent", {
      description: "SVID Bridge: runs the rotation once at deploy",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: "index.handler",
      code: lambda.Code.fromInline(ON_EVENT_SOURCE),
      timeout: Duration.minutes(5),
      role,
      logGroup,
      environment: { ROTATION_FUNCTION: props.rotation.functionArn },
    });
    this.provider = new cr.Provider(this, "Provider", {
      onEventHandler: onEvent,
      logGroup: new logs.LogGroup(this, "ProviderLogs", {
        retention: props.logRetention,
        removalPolicy: props.logRemovalPolicy,
      }),
    });
    acknowledge(
      onEvent,
      "L1",
      "nodejs22.x is the bridge's supported Lambda runtime (DESIGN, Runtime and toolchain)",
    );
    acknowledge(
      role,
      `IAM5[Resource::${nagArnPrefix(this, "logs")}log-group:${logicalRef(logGroup.node.defaultChild as logs.CfnLogGroup)}:log-stream:*]`,
      "Lambda names its log streams at run time; the wildcard is limited to streams of this function's own log group",
    );
    // The Provider framework's own function and role are made by aws-cdk-lib, not by us.
    acknowledge(
      this.provider,
      "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      "the CDK Provider framework's function role; it only writes its own logs and invokes the onEvent function",
    );
    acknowledge(
      this.provider,
      `IAM5[Resource::${logicalRef(onEvent.node.defaultChild as lambda.CfnFunction).replace(/>$/, ".Arn>")}:*]`,
      "the CDK Provider framework may invoke any version or alias of its own onEvent function, nothing else",
    );
    acknowledge(this.provider, "L1", "the CDK Provider framework chooses its own function's runtime");
    this.resource = new CustomResource(this, "Run", {
      serviceToken: this.provider.serviceToken,
      resourceType: "Custom::SvidBridgeFirstRotation",
      properties: props.trigger,
    });
  }
}
