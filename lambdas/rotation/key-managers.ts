/**
 * Which KeyManager the rotation Lambda uses, by SVID_BRIDGE_KEY_MANAGER: a KMS key per
 * signing key (default), KMS-wrapped key pairs kept in the key-set table, or (tests and
 * dev only) process memory, where a new sandbox would lose every key.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KMSClient } from "@aws-sdk/client-kms";
import { DynamoDbWrappedKeyStore } from "../../lib/aws/dynamodb-wrapped-key-store.js";
import { KmsKeyManager } from "../../lib/aws/kms-key-manager.js";
import { KmsWrappedKeyManager } from "../../lib/aws/kms-wrapped-key-manager.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import type { KeyManager } from "../../lib/ports/key-manager.js";
import type { KeyManagerKind, RotationLambdaConfig } from "./config.js";

export type KeyManagerFactory = (
  config: Readonly<RotationLambdaConfig>,
  clients: { dynamodb: DynamoDBClient; kms: () => KMSClient },
) => KeyManager;

export const keyManagerFactories: Record<KeyManagerKind, KeyManagerFactory> = {
  // config.ts guarantees trustDomain and wrappingKeyId where these need them.
  kms: (config, { kms }) =>
    new KmsKeyManager({
      client: kms(),
      trustDomain: config.trustDomain!,
      ...(config.keyPolicy && { keyPolicy: config.keyPolicy }),
    }),
  "kms-wrapped": (config, { dynamodb, kms }) =>
    new KmsWrappedKeyManager({
      client: kms(),
      wrappingKeyId: config.wrappingKeyId!,
      store: new DynamoDbWrappedKeyStore({ client: dynamodb, tableName: config.keySetTable }),
    }),
  memory: () => new InMemoryKeyManager(),
};
