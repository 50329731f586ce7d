/**
 * The rotation Lambda's handler, built from its parts. Invoked by an EventBridge
 * schedule (the event's content is ignored: the key set's own timestamps say what is
 * due), and safe to invoke at any time or twice at once.
 */
import middy from "@middy/core";
import type { Context, ScheduledEvent } from "aws-lambda";
import type { Clock } from "../../lib/clock.js";
import type { KeySetStore } from "../../lib/keyset/key-set-store.js";
import type { KeyManager } from "../../lib/ports/key-manager.js";
import type { CaRenewer } from "../../lib/rotation/ca-renewer.js";
import { type RotationResult, rotateKeys } from "../../lib/rotation/rotate-keys.js";
import type { RotationConfig } from "../../lib/rotation/rotation-config.js";

export interface RotationHandlerDeps {
  store: KeySetStore;
  keys: KeyManager;
  clock: Clock;
  config: Readonly<RotationConfig>;
  caRenewer?: CaRenewer;
  logger?: {
    info(message: string, ...extra: Record<string, unknown>[]): void;
    error(message: string, ...extra: Record<string, unknown>[]): void;
  };
}

export function createRotationHandler(deps: RotationHandlerDeps) {
  return middy<ScheduledEvent | Record<string, never>, RotationResult, Error, Context>(async () => {
    try {
      // rotateKeys takes the deps less the logger: store, keys, clock, config, caRenewer.
      const { logger: _logger, ...rotation } = deps;
      const result = await rotateKeys(rotation);
      deps.logger?.info("rotation done", {
        sequence: result.sequence,
        changed: result.changed,
        actions: result.actions,
        activeKid: result.activeKid,
      });
      if (result.deletionFailures.length > 0)
        deps.logger?.error("key deletion failed; the keys are out of the set and may be deleted by hand", {
          failures: result.deletionFailures,
        });
      return result;
    } catch (error) {
      // A failed rotation must be loud (the schedule retries, an alarm watches Errors).
      deps.logger?.error("rotation failed", { error: error as Error });
      throw error;
    }
  });
}
