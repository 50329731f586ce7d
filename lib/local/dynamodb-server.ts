/**
 * dynalite, a DynamoDB-protocol server, on a free loopback port: the real
 * @aws-sdk/client-dynamodb talks to it over HTTP exactly as it talks to DynamoDB.
 * In memory by default; pass `path` to keep data on disk (svid-bridge dev --data-dir).
 */
import type { AddressInfo } from "node:net";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";

export interface RunningDynamoDb {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** Static dev credentials: dynalite does not check them, the SDK insists on having some. */
export const DYNAMODB_TEST_CREDENTIALS = { accessKeyId: "AKIDDYNALITE", secretAccessKey: "dynalite-secret" };

/**
 * CreateTable through this client answers once the table is ACTIVE. dynalite flips a new
 * table to ACTIVE on a timer (createTableMs, at least 1 ms even at 0), so a write sent
 * within that millisecond got ResourceNotFoundException: seen in CI on an idle machine.
 */
function awaitActiveTables(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName !== "CreateTableCommand") return result;
      const TableName = (args.input as { TableName?: string }).TableName;
      for (let attempt = 0; attempt < 500; attempt++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName }));
        if (Table?.TableStatus === "ACTIVE") break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return result;
    },
    { step: "initialize", name: "svidBridgeAwaitActiveTable" },
  );
}

export async function startDynalite(
  options: {
    path?: string;
    port?: number /** ms before a new table is ACTIVE (tests). */;
    createTableMs?: number;
  } = {},
): Promise<RunningDynamoDb> {
  // createTableMs etc. at 0: tables are ACTIVE at once, as tests need.
  const server = dynalite({
    createTableMs: options.createTableMs ?? 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path !== undefined && { path: options.path }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: DYNAMODB_TEST_CREDENTIALS,
  });
  awaitActiveTables(client);
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
