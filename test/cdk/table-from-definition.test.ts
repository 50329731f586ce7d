import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import { describe, expect, it } from "vitest";
import { keySetTableDefinition } from "../../lib/aws/dynamodb-key-set-store.js";
import { registrationTableDefinition } from "../../lib/aws/dynamodb-registration-store.js";
import { replayCacheTableDefinition } from "../../lib/aws/dynamodb-replay-cache.js";
import { tableKeyProps } from "../../lib/cdk/table-from-definition.js";

/** What CloudFormation gets for a TableV2 made from the definition, in CreateTable's own terms. */
function synthesized(definition: CreateTableCommandInput) {
  const stack = new Stack(new App(), "T");
  new dynamodb.TableV2(stack, "Table", tableKeyProps(definition));
  const [table] = Object.values(Template.fromStack(stack).findResources("AWS::DynamoDB::GlobalTable"));
  return table!.Properties as Record<string, unknown>;
}

const sortByName = <T extends { AttributeName?: string; IndexName?: string }>(list: T[] = []) =>
  [...list].sort((a, b) =>
    (a.AttributeName ?? a.IndexName ?? "").localeCompare(b.AttributeName ?? b.IndexName ?? ""),
  );

describe("tableKeyProps: the deployed table has the keys and indexes the adapter defines", () => {
  for (const [name, definition] of [
    ["registrations", registrationTableDefinition("t")],
    ["key set", keySetTableDefinition("t")],
    ["replay cache", replayCacheTableDefinition("t")],
  ] as const) {
    it(`${name}: key schema, attribute definitions and GSIs are equal`, () => {
      const table = synthesized(definition);
      expect(table.KeySchema).toEqual(definition.KeySchema);
      expect(sortByName(table.AttributeDefinitions as never)).toEqual(
        sortByName(definition.AttributeDefinitions),
      );
      const gsis = (table.GlobalSecondaryIndexes as Record<string, unknown>[] | undefined)?.map((g) => ({
        IndexName: g.IndexName,
        KeySchema: g.KeySchema,
        Projection: g.Projection,
      }));
      expect(sortByName(gsis as never)).toEqual(sortByName(definition.GlobalSecondaryIndexes ?? []));
    });
  }

  it("the registrations table keeps its three indexes by name", () => {
    const props = tableKeyProps(registrationTableDefinition("t"));
    expect(props.globalSecondaryIndexes?.map((g) => g.indexName).sort()).toEqual([
      "by-account",
      "by-caller",
      "by-spiffe-id",
    ]);
  });

  it("refuses a definition it cannot translate faithfully", () => {
    const base = keySetTableDefinition("t");
    expect(() => tableKeyProps({ ...base, AttributeDefinitions: [] })).toThrow(/pk has no S, N or B/);
    expect(() =>
      tableKeyProps({
        ...base,
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "pk", KeyType: "HASH" },
        ],
      }),
    ).toThrow(/one HASH key/);
    expect(() =>
      tableKeyProps({
        ...base,
        LocalSecondaryIndexes: [
          { IndexName: "l", KeySchema: base.KeySchema, Projection: { ProjectionType: "ALL" } },
        ],
      }),
    ).toThrow(/local secondary/);
  });
});
