/**
 * The exchange's registration lookup: a DynamoDB Query on the by-caller index (dynalite on
 * loopback, the real SDK client) against the CachingRegistrationStore hit path in the same
 * run. dynalite is slower than DynamoDB and has no network hop: read the ratio as "what
 * the cache saves per warm call", not as a DynamoDB figure.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../lib/aws/dynamodb-registration-store.js";
import { startDynalite } from "../lib/local/dynamodb-server.js";
import type { CallerIdentity } from "../lib/ports/caller-verifier.js";
import { CachingRegistrationStore } from "../lib/registrations/caching-registration-store.js";
import { matchRegistrations } from "../lib/registrations/match-registrations.js";
import { TrustDomain } from "../lib/spiffe/spiffe-id.js";
import { type BenchResult, opsPerSecond, ratioResult } from "./harness.js";

export async function run(): Promise<BenchResult[]> {
  const db = await startDynalite();
  try {
    await db.client.send(new CreateTableCommand(registrationTableDefinition("bench-registrations")));
    const store = new DynamoDbRegistrationStore({ client: db.client, tableName: "bench-registrations" });
    // A realistic partition: a few entries for the caller's role, among many others.
    for (let i = 0; i < 3; i++)
      await store.create({
        id: `orders-${i}`,
        selectors: { account: "111122223333", roleName: "orders", sessionName: `orders-${i}-*` },
        spiffeId: "spiffe://example.org/aws/{account}/{session}",
        kinds: ["jwt", "x509"],
        enabled: true,
      });
    for (let i = 0; i < 50; i++)
      await store.create({
        id: `other-${i}`,
        selectors: { account: "111122223333", roleName: `role-${i}` },
        spiffeId: `spiffe://example.org/other/${i}`,
        kinds: ["jwt"],
        enabled: true,
      });
    const td = TrustDomain.parse("example.org");
    const caller: CallerIdentity = {
      arn: "arn:aws:sts::111122223333:assumed-role/orders/orders-1-fn",
      partition: "aws",
      account: "111122223333",
      principalType: "assumed-role",
      principalName: "orders",
      uniqueId: "AROAEXAMPLEEXAMPLE123",
      sessionName: "orders-1-fn",
    };
    const lookup =
      (s: { findByAccountAndRole: DynamoDbRegistrationStore["findByAccountAndRole"] }) => async () => {
        const matches = matchRegistrations(
          caller,
          await s.findByAccountAndRole("111122223333", "orders"),
          td,
        );
        if (matches.length !== 1) throw new Error(`expected one match, got ${matches.length}`);
      };
    const direct = await opsPerSecond(lookup(store), 1500);
    const cached = new CachingRegistrationStore(store, { ttlMs: 60_000 });
    const hit = await opsPerSecond(lookup(cached), 1500);
    return ratioResult("registration lookup + match, cache hit", hit, {
      name: "registration lookup + match, DynamoDB Query (dynalite)",
      value: direct,
    });
  } finally {
    await db.stop();
  }
}
