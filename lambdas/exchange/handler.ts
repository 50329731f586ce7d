/**
 * Exchange Lambda (Function URL, auth NONE: the proof of IAM identity is the
 * authentication). Wires the AWS adapters into the composition once per sandbox.
 */
import { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoDbKeySetStore } from "../../lib/aws/dynamodb-key-set-store.js";
import { DynamoDbRegistrationStore } from "../../lib/aws/dynamodb-registration-store.js";
import { DynamoDbReplayCache } from "../../lib/aws/dynamodb-replay-cache.js";
import { DynamoDbWrappedKeyStore } from "../../lib/aws/dynamodb-wrapped-key-store.js";
import { KmsKeyManager } from "../../lib/aws/kms-key-manager.js";
import { KmsWrappedKeyManager } from "../../lib/aws/kms-wrapped-key-manager.js";
import { PcaDirectCertificateAuthority } from "../../lib/aws/pca-direct-certificate-authority.js";
import { systemClock } from "../../lib/clock.js";
import { BridgeError } from "../../lib/errors.js";
import { createLogger } from "../../lib/http/logger.js";
import type { CertificateAuthority } from "../../lib/ports/certificate-authority.js";
import type { KeyManager } from "../../lib/ports/key-manager.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { CachingRegistrationStore } from "../../lib/registrations/caching-registration-store.js";
import { auditIssued, createExchangeHandler } from "./app.js";
import { EXCHANGE_AWS_CLIENT_CONFIG } from "./aws-clients.js";
import { composeExchange } from "./compose.js";
import { loadExchangeConfig } from "./config.js";
import { powertoolsMetrics } from "./powertools-metrics.js";

const config = loadExchangeConfig(process.env);
const logger = createLogger({ serviceName: "svid-bridge-exchange" });
const metrics = powertoolsMetrics();
const dynamodb = new DynamoDBClient({ ...EXCHANGE_AWS_CLIENT_CONFIG });
const kms = new KMSClient({ ...EXCHANGE_AWS_CLIENT_CONFIG });

/** SVID_BRIDGE_CA_MODE=none: a bridge deployed without a PCA issues JWT-SVIDs only (403 for X.509). */
const jwtOnly: CertificateAuthority = {
  issue: async () => {
    // A 403, not a 503: retrying cannot help; the function should set SVID_BRIDGE_X509=off.
    throw new BridgeError(
      "svid_kind_not_allowed",
      "this bridge issues JWT-SVIDs only: it was deployed without a PCA (set SVID_BRIDGE_X509=off)",
    );
  },
  trustAnchors: async () => [],
};

const keys: KeyManager =
  config.keyManager === "kms-wrapped"
    ? new KmsWrappedKeyManager({
        client: kms,
        wrappingKeyId: config.wrappingKeyId!,
        store: new DynamoDbWrappedKeyStore({ client: dynamodb, tableName: config.keySetTable }),
      })
    : new KmsKeyManager({ client: kms, trustDomain: config.trustDomain });

const { service, bundle } = composeExchange({
  trustDomain: config.trustDomain,
  issuer: config.issuer,
  verifier: new StsCallerVerifier({
    serverIdValue: config.serverId,
    regions: config.allowedRegions,
    ...(config.ownRegion !== undefined && { ownRegion: config.ownRegion }),
    allowIamUsers: config.allowIamUsers,
    replayCache: new DynamoDbReplayCache({ client: dynamodb, tableName: config.replayTable }),
  }),
  registrations: new CachingRegistrationStore(
    new DynamoDbRegistrationStore({ client: dynamodb, tableName: config.registrationsTable }),
    { ttlMs: config.registrationCacheSeconds * 1000, clock: systemClock },
  ),
  keySetStore: new DynamoDbKeySetStore({
    client: dynamodb,
    tableName: config.keySetTable,
    setId: config.keySetId,
  }),
  keys,
  ...(config.caMode === "none" && { ca: jwtOnly }),
  ...(config.caMode === "direct" && {
    ca: new PcaDirectCertificateAuthority({
      client: new ACMPCAClient({ ...EXCHANGE_AWS_CLIENT_CONFIG }),
      certificateAuthorityArn: config.pcaArn!,
      trustDomain: config.trustDomain,
    }),
  }),
  clock: systemClock,
  maxJwtTtlSeconds: config.maxJwtTtlSeconds,
  maxX509TtlSeconds: config.maxX509TtlSeconds,
  keySetCacheSeconds: config.signingKeyCacheSeconds,
  metrics: () => metrics,
  onIssued: (event) => auditIssued(logger, event),
});

export const handler = createExchangeHandler({ service, bundle, logger, metrics });
