/**
 * The extension's layer, published from the zip `npm run build:layer` (or `npm run build`)
 * writes to dist/svid-bridge-layer.zip; the package's tarball ships that zip, so an
 * installed `svid-bridge/cdk` finds it beside its own dist/lib. Also the
 * helper that gives a function its SPIFFE identity: the layer plus the environment the
 * extension reads (layers/extension/src/config.ts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { PROJECT_ROOT } from "./bridge-function.js";
import { ORGANIZATION_ID } from "./check-props.js";

export const DEFAULT_LAYER_ZIP = join(PROJECT_ROOT, "dist", "svid-bridge-layer.zip");

export interface SvidBridgeLayerProps {
  /** @default `dist/svid-bridge-layer.zip` of the clone or of the installed package */
  zipPath?: string;
  /**
   * Lets every account of this AWS Organization (o-…) use the layer version.
   * @default - only this account
   */
  organizationId?: string;
}

export class SvidBridgeLayer extends Construct {
  readonly layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string, props: SvidBridgeLayerProps = {}) {
    super(scope, id);
    const zipPath = props.zipPath ?? DEFAULT_LAYER_ZIP;
    if (!existsSync(zipPath))
      throw new Error(
        `SVID Bridge layer: ${zipPath} is missing; run npm run build:layer (a clone) or npm run build (its dist/)`,
      );
    this.layer = new lambda.LayerVersion(this, "Layer", {
      code: lambda.Code.fromAsset(zipPath),
      description: "SVID Bridge extension: SPIFFE JWT-SVIDs and X.509-SVIDs for this function's IAM role",
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X, lambda.Runtime.NODEJS_24_X],
      // The extension is a JavaScript bundle started with the runtime's own node.
      compatibleArchitectures: [lambda.Architecture.ARM_64, lambda.Architecture.X86_64],
      license: "Apache-2.0",
    });
    if (props.organizationId) {
      if (!ORGANIZATION_ID.test(props.organizationId))
        throw new Error(`SVID Bridge layer: ${props.organizationId} is not an AWS Organization ID (o-…)`);
      this.layer.addPermission("Organization", { accountId: "*", organizationId: props.organizationId });
    }
  }
}

/** What a function needs to know of a bridge: a deployed SvidBridge, or one from another app. */
export interface SvidBridgeEndpoint {
  readonly layer: lambda.ILayerVersion;
  /** The exchange's base URL (SVID_BRIDGE_URL). */
  readonly exchangeUrl: string;
  /** The value proofs must carry in the server-ID header (SVID_BRIDGE_SERVER_ID). */
  readonly serverId: string;
}

export interface AttachSvidBridgeOptions {
  /**
   * JWT-SVIDs fetched at init and kept fresh (SVID_BRIDGE_JWT_AUDIENCES).
   * @default - none at init; the function asks the local API on demand
   */
  jwtAudiences?: string[];
  /**
   * The SPIFFE ID to ask for when the role has several registrations (SVID_BRIDGE_SPIFFE_ID).
   * @default - the one registration that matches
   */
  spiffeId?: string;
  /**
   * Fetch an X.509-SVID at init (SVID_BRIDGE_X509).
   * @default true
   */
  x509?: boolean;
  /**
   * Write svid.pem, svid_key.pem and bundle.pem here (SVID_BRIDGE_FILES_DIR), absolute.
   * @default - no files
   */
  filesDir?: string;
  /**
   * Audience of the JWT-SVID written to AWS_WEB_IDENTITY_TOKEN_FILE (SVID_BRIDGE_AWS_TOKEN_AUDIENCE);
   * set the file variable yourself.
   * @default - the extension's: "sts.amazonaws.com"
   */
  awsTokenAudience?: string;
  /**
   * Audience of the JWT-SVID written to AZURE_FEDERATED_TOKEN_FILE (SVID_BRIDGE_AZURE_TOKEN_AUDIENCE).
   * @default - the extension's: "api://AzureADTokenExchange"
   */
  azureTokenAudience?: string;
  /**
   * The Entra ID identity the function signs in as (docs/federation-azure.md): sets
   * AZURE_CLIENT_ID and AZURE_TENANT_ID, which the Azure SDKs read.
   * @default - none
   */
  azure?: { clientId: string; tenantId: string };
  /**
   * What an init failure does (SVID_BRIDGE_INIT_FAILURE): `fail` the sandbox, or start `degraded`.
   * @default "fail"
   */
  initFailure?: "fail" | "degraded";
  /**
   * Port of the local API on 127.0.0.1 (SVID_BRIDGE_HTTP_PORT).
   * @default 2775
   */
  httpPort?: number;
  /**
   * Set AWS_LAMBDA_EXEC_WRAPPER to the layer's wrapper, which exports SVID_BRIDGE_ENDPOINT
   * to the function. Turn off when the function already uses another exec wrapper.
   * @default true
   */
  execWrapper?: boolean;
}

export const EXEC_WRAPPER_PATH = "/opt/svid-bridge/svid-bridge-wrapper";

/** Adds the bridge's layer and the extension's environment to a function. */
export function attachSvidBridge(
  fn: lambda.Function,
  bridge: SvidBridgeEndpoint,
  options: AttachSvidBridgeOptions = {},
): void {
  fn.addLayers(bridge.layer);
  const env: Record<string, string | undefined> = {
    SVID_BRIDGE_URL: bridge.exchangeUrl,
    SVID_BRIDGE_SERVER_ID: bridge.serverId,
    SVID_BRIDGE_JWT_AUDIENCES: options.jwtAudiences?.length ? options.jwtAudiences.join(",") : undefined,
    SVID_BRIDGE_SPIFFE_ID: options.spiffeId,
    SVID_BRIDGE_X509: options.x509 === false ? "off" : "on",
    SVID_BRIDGE_FILES_DIR: options.filesDir,
    SVID_BRIDGE_AWS_TOKEN_AUDIENCE: options.awsTokenAudience,
    SVID_BRIDGE_AZURE_TOKEN_AUDIENCE: options.azureTokenAudience,
    AZURE_CLIENT_ID: options.azure?.clientId,
    AZURE_TENANT_ID: options.azure?.tenantId,
    SVID_BRIDGE_INIT_FAILURE: options.initFailure,
    SVID_BRIDGE_HTTP_PORT: options.httpPort === undefined ? undefined : String(options.httpPort),
    AWS_LAMBDA_EXEC_WRAPPER: options.execWrapper === false ? undefined : EXEC_WRAPPER_PATH,
  };
  if (options.jwtAudiences?.some((a) => a.includes(",")))
    throw new Error(
      "attachSvidBridge: an audience cannot contain ',' (SVID_BRIDGE_JWT_AUDIENCES is a comma list)",
    );
  for (const [name, value] of Object.entries(env)) if (value !== undefined) fn.addEnvironment(name, value);
}
