/**
 * One of the bridge's Lambdas, as every one of them is deployed: nodejs22.x on arm64,
 * bundled locally by esbuild (never Docker: `cdk synth` must work offline), ESM with a
 * `require` shim for the CommonJS dependencies esbuild inlines, source maps on; its own
 * role holding exactly the statements it is given (no managed policy), its own log
 * group with a retention, and alarms on Errors and Throttles.
 *
 * Two ways to the same bundle, chosen by the entry:
 *   - a TypeScript entry (a clone: the CDK app and the tests run lib/cdk/*.ts) goes to
 *     NodejsFunction, with the repository's package-lock.json;
 *   - a compiled entry (the installed package runs dist/lib/cdk/*.js, and the entries are
 *     dist/lambdas/<name>/handler.js) is bundled in process by the esbuild API (esbuild
 *     is a runtime dependency) as a CDK local bundling step: no lock file (the tarball
 *     has none), no package manager and no `npx esbuild` in the user's project.
 * Both use the options in LAMBDA_BUNDLE, write index.mjs (+ .map), handler index.handler.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AssetHashType, Duration, type RemovalPolicy, Stack, Tags } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { LogLevel, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { buildSync } from "esbuild";
import { TRUST_DOMAIN_TAG } from "../aws/kms-key-manager.js";
import { acknowledge, logicalRef, nagArnPrefix } from "./acknowledge.js";
import { logStatements } from "./policies.js";

/** True when this module is the compiled dist/lib/cdk/bridge-function.js (the installed package). */
const COMPILED = !import.meta.url.endsWith(".ts");

/**
 * The repository root (a clone) or the package's root (node_modules/svid-bridge): entries
 * and the layer zip are resolved from it, wherever the app runs.
 */
export const PROJECT_ROOT = join(
  dirname(fileURLToPath(import.meta.url)),
  ...(COMPILED ? ["..", "..", ".."] : ["..", ".."]),
);

/** lambdas/<name>/handler.ts in a clone; dist/lambdas/<name>/handler.js once compiled. */
function lambdaEntry(name: string): string {
  return COMPILED
    ? join(PROJECT_ROOT, "dist", "lambdas", name, "handler.js")
    : join(PROJECT_ROOT, "lambdas", name, "handler.ts");
}

export const LAMBDA_ENTRIES = {
  exchange: lambdaEntry("exchange"),
  discovery: lambdaEntry("discovery"),
  rotation: lambdaEntry("rotation"),
} as const;

/** ESM output still meets CommonJS code in dependencies (`require("crypto")`): give it a require. */
const REQUIRE_SHIM =
  "import { createRequire as __svidBridgeCreateRequire } from 'node:module'; const require = __svidBridgeCreateRequire(import.meta.url);";

/**
 * The one set of esbuild options both bundling paths use. Every dependency is bundled,
 * the AWS SDK too: the versions tested here are the versions that run.
 */
export const LAMBDA_BUNDLE = {
  target: "node22",
  mainFields: ["module", "main"],
  banner: REQUIRE_SHIM,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
} as const;

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
  /** A NodejsFunction from a clone's TypeScript entry, a lambda.Function from a compiled one. */
  readonly function: lambda.Function;
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

  /** nodejs22.x on arm64: NodejsFunction for a .ts entry, in-process esbuild for a compiled one. */
  #function(props: BridgeFunctionProps): lambda.Function {
    return bridgeLambda(
      this,
      "Function",
      {
        description: props.description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: props.memorySize,
        timeout: props.timeout,
        role: this.role,
        logGroup: this.logGroup,
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
        environment: { NODE_OPTIONS: "--enable-source-maps", ...props.environment },
      },
      props.entry,
    );
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

type LambdaProps = Omit<lambda.FunctionProps, "code" | "handler">;

/** The function for `entry`: NodejsFunction for a .ts entry, in-process esbuild for a compiled one. */
function bridgeLambda(scope: Construct, id: string, props: LambdaProps, entry: string): lambda.Function {
  if (entry.endsWith(".ts"))
    return new NodejsFunction(scope, id, {
      ...props,
      entry,
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      bundling: {
        ...LAMBDA_BUNDLE,
        mainFields: [...LAMBDA_BUNDLE.mainFields],
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        externalModules: [],
        logLevel: LogLevel.ERROR,
      },
    });
  return new lambda.Function(scope, id, { ...props, handler: "index.handler", code: compiledCode(entry) });
}

/**
 * The compiled entry bundled as NodejsFunction would (index.mjs and its source map), by
 * esbuild's API in a CDK local bundling step: it runs only for the stacks being
 * synthesized, in cdk.out, and the asset hash is the output's. Errors: esbuild's, thrown
 * (an unresolvable import names the module).
 */
function compiledCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never started: the local step bundles or throws.
      image: lambda.Runtime.NODEJS_22_X.bundlingImage,
      local: {
        tryBundle(outputDir: string): boolean {
          buildSync({
            entryPoints: [entry],
            outfile: join(outputDir, "index.mjs"),
            bundle: true,
            platform: "node",
            format: "esm",
            target: LAMBDA_BUNDLE.target,
            mainFields: [...LAMBDA_BUNDLE.mainFields],
            banner: { js: LAMBDA_BUNDLE.banner },
            minify: LAMBDA_BUNDLE.minify,
            sourcemap: LAMBDA_BUNDLE.sourceMap,
            sourcesContent: LAMBDA_BUNDLE.sourcesContent,
            logLevel: "error",
          });
          return true;
        },
      },
    },
  });
}
