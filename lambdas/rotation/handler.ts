/**
 * Rotation Lambda (EventBridge schedule, and once at deploy): keeps the JWT key set and,
 * in intermediate mode, the intermediate CA fresh (renewed through ACM PCA before half
 * its life is gone). The KeyManager comes from a factory chosen by SVID_BRIDGE_KEY_MANAGER.
 */
import { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoDbKeySetStore } from "../../lib/aws/dynamodb-key-set-store.js";
import { PcaCaRenewer } from "../../lib/aws/pca-ca-renewer.js";
import { systemClock } from "../../lib/clock.js";
import { createLogger } from "../../lib/http/logger.js";
import { createRotationHandler } from "./app.js";
import { loadRotationConfig } from "./config.js";
import { keyManagerFactories } from "./key-managers.js";

const config = loadRotationConfig(process.env);
const dynamodb = new DynamoDBClient({});
const keys = keyManagerFactories[config.keyManager](config, { dynamodb, kms: () => new KMSClient({}) });

export const handler = createRotationHandler({
  store: new DynamoDbKeySetStore({ client: dynamodb, tableName: config.keySetTable, setId: config.keySetId }),
  keys,
  clock: systemClock,
  config: config.rotation,
  ...(config.caMode === "intermediate" &&
    config.pcaArn &&
    config.trustDomain && {
      caRenewer: new PcaCaRenewer({
        client: new ACMPCAClient({}),
        certificateAuthorityArn: config.pcaArn,
        trustDomain: config.trustDomain,
        keys,
        alg: config.rotation.alg,
        intermediateTtlSeconds: config.intermediateTtlSeconds,
      }),
    }),
  logger: createLogger({ serviceName: "svid-bridge-rotation" }),
});
