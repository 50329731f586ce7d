/**
 * Discovery Lambda (Function URL, auth NONE): OIDC discovery, JWKS and the SPIFFE bundle,
 * read from the key set in DynamoDB. Config and clients are made once per sandbox.
 */
import { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbKeySetStore } from "../../lib/aws/dynamodb-key-set-store.js";
import { fetchCaCertificates } from "../../lib/aws/pca-issuance.js";
import { systemClock } from "../../lib/clock.js";
import { createDiscoveryEndpoint } from "../../lib/discovery/discovery-endpoint.js";
import { createLogger } from "../../lib/http/logger.js";
import { createDiscoveryHandler } from "./app.js";
import { loadDiscoveryConfig } from "./config.js";

const config = loadDiscoveryConfig(process.env);
const logger = createLogger({ serviceName: "svid-bridge-discovery" });
const store = new DynamoDbKeySetStore({
  client: new DynamoDBClient({}),
  tableName: config.keySetTable,
  setId: config.keySetId,
});

export const handler = createDiscoveryHandler({
  endpoint: createDiscoveryEndpoint({
    issuer: config.issuer,
    trustDomain: config.trustDomain,
    store,
    clock: systemClock,
    cacheMaxAgeSeconds: config.cacheMaxAgeSeconds,
    refreshHintSeconds: config.refreshHintSeconds,
    keySetCacheSeconds: config.keySetCacheSeconds,
    ...(config.directModePcaArn && {
      extraTrustAnchors: async () => [
        (await fetchCaCertificates(new ACMPCAClient({}), config.directModePcaArn!)).root,
      ],
    }),
  }),
  logger,
});
