/**
 * Rotation Lambda (EventBridge schedule): keeps the JWT key set and the intermediate CA
 * fresh. The KeyManager comes from a factory chosen by SVID_BRIDGE_KEY_MANAGER.
 * Intermediate CA renewal through ACM PCA plugs in as a CaRenewer once the PCA adapter
 * lands; until then this Lambda rotates JWT keys only.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbKeySetStore } from "../../lib/aws/dynamodb-key-set-store.js";
import { systemClock } from "../../lib/clock.js";
import { createLogger } from "../../lib/http/logger.js";
import { createRotationHandler } from "./app.js";
import { loadRotationConfig } from "./config.js";
import { keyManagerFactories } from "./key-managers.js";

const config = loadRotationConfig(process.env);
const dynamodb = new DynamoDBClient({});

export const handler = createRotationHandler({
  store: new DynamoDbKeySetStore({ client: dynamodb, tableName: config.keySetTable, setId: config.keySetId }),
  keys: keyManagerFactories[config.keyManager](config, { dynamodb }),
  clock: systemClock,
  config: config.rotation,
  logger: createLogger({ serviceName: "svid-bridge-rotation" }),
});
