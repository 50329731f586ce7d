/**
 * Which KeyManager the rotation Lambda uses, by SVID_BRIDGE_KEY_MANAGER. `kms` is wired
 * here once lib/aws/kms-key-manager.ts lands (built separately); until then choosing it
 * fails init with a clear message rather than silently keeping keys in memory, where a
 * new sandbox would lose them.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BridgeError } from "../../lib/errors.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import type { KeyManager } from "../../lib/ports/key-manager.js";
import type { KeyManagerKind, RotationLambdaConfig } from "./config.js";

export type KeyManagerFactory = (
  config: Readonly<RotationLambdaConfig>,
  clients: { dynamodb: DynamoDBClient },
) => KeyManager;

export const keyManagerFactories: Record<KeyManagerKind, KeyManagerFactory> = {
  kms: () => {
    throw new BridgeError(
      "config_invalid",
      "SVID_BRIDGE_KEY_MANAGER=kms: the KMS key manager is not in this build yet (lib/aws/kms-key-manager.ts)",
    );
  },
  memory: () => new InMemoryKeyManager(),
};
