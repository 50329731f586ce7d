/**
 * One of the bridge's Lambdas, as every one of them is deployed: nodejs22.x on arm64,
 * bundled locally by esbuild (never Docker: `cdk synth` must work offline), ESM with a
 * `require` shim for the CommonJS dependencies esbuild inlines, source maps on; its own
 * role holding exactly the statements it is given (no managed policy), its own log
 * group with a retention, and alarms on Errors and Throttles.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, type RemovalPolicy, Stack, Tags } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { LogLevel, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { TRUST_DOMAIN_TAG } from "../aws/kms-key-manager.js";
import { acknowledge, logicalRef, nagArnPrefix } from "./acknowledge.js";
import { logStatements } from "./policies.js";

/** The repository root: entries and the lock file are resolved from it, wherever the app runs. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const LAMBDA_ENTRIES = {
  exchange: join(PROJECT_ROOT, "lambdas/exchange/handler.ts"),
  discovery: join(PROJECT_ROOT, "lambdas/discovery/handler.ts"),
  rotation: join(PROJECT_ROOT, "lambdas/rotation/handler.ts"),
} as const;

/** ESM output still meets CommonJS code in dependencies (`require("crypto")`): give it a require. */
const REQUIRE_SHIM =
  "import { createRequire as __svidBridgeCreateRequire } from 'node:module'; const require = __svidBridgeCreateRequire(import.meta.url);";

export interface BridgeFunctionProps {
  entry: string;
  description: string;
  trustDomain: string;
  environment: Record<string, string>;
  statements: iam.PolicyStatement[];
  memorySize: number;
  timeout: Duration;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  reservedConcurrentExecutions?: number;
  alarmTopic?: sns.ITopic;
}

export class BridgeFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly errorsAlarm: cloudwatch.Alarm;
  readonly throttlesAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role = this.#role(id, props);
    this.function = this.#function(props);
    acknowledge(
      this.function,
      "L1",
      "nodejs22.x is the bridge's supported Lambda runtime (DESIGN, Runtime and toolchain); the bundle targets node22 and the layer supports 22.x and 24.x",
    );
    acknowledge(
      this.role,
      `IAM5[Resource::${nagArnPrefix(this, "logs")}log-group:${logicalRef(this.logGroup.node.defaultChild as logs.CfnLogGroup)}:log-stream:*]`,
      "Lambda names its log streams at run time; the wildcard is limited to streams of this function's own log group",
    );
    const period = Duration.minutes(5);
    this.errorsAlarm = this.#alarm(
      "ErrorsAlarm",
      `SVID Bridge ${id}: the function failed (unhandled error or timeout)`,
      this.function.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
    );
    this.throttlesAlarm = this.#alarm(
      "ThrottlesAlarm",
      `SVID Bridge ${id}: invocations were throttled (concurrency limit reached)`,
      this.function.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }),
    );
    if (props.alarmTopic) {
      const action = new cloudwatchActions.SnsAction(props.alarmTopic);
      this.errorsAlarm.addAlarmAction(action);
      this.throttlesAlarm.addAlarmAction(action);
    }
  }

  /** The function's own role: exactly `props.statements` and its log group's, tagged with the trust domain. */
  #role(id: string, props: BridgeFunctionProps): iam.Role {
    const role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `SVID Bridge ${id} (${props.trustDomain})`,
      inlinePolicies: {
        [id]: new iam.PolicyDocument({
          statements: [...props.statements, ...logStatements(Stack.of(this), this.logGroup.logGroupName)],
        }),
      },
    });
    // The wrapping key's policy refuses data-key use to any principal without this tag.
    Tags.of(role).add(TRUST_DOMAIN_TAG, props.trustDomain);
    return role;
  }

  /** nodejs22.x on arm64, bundled locally by esbuild as ESM with the require shim. */
  #function(props: BridgeFunctionProps): NodejsFunction {
    return new NodejsFunction(this, "Function", {
      entry: props.entry,
      handler: "handler",
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      environment: { NODE_OPTIONS: "--enable-source-maps", ...props.environment },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: "node22",
        mainFields: ["module", "main"],
        banner: REQUIRE_SHIM,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the AWS SDK too: the versions tested here are the versions that run.
        externalModules: [],
        logLevel: LogLevel.ERROR,
      },
    });
  }

  /** Fires when the five-minute sum of `metric` reaches 1; no data is not a breach. */
  #alarm(id: string, description: string, metric: cloudwatch.IMetric): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
