/**
 * Translates a table's CreateTable definition (exported by each DynamoDB adapter, and
 * used by the tests and `svid-bridge dev` to create the same table in dynalite) into
 * TableV2 props, so the deployed table and the code that reads it cannot drift apart.
 * Only what a definition says about keys and indexes is taken: billing, encryption,
 * recovery and TTL are the construct's deployment choices.
 */
import type {
  AttributeDefinition,
  CreateTableCommandInput,
  KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";

export type TableKeyProps = Pick<
  dynamodb.TablePropsV2,
  "partitionKey" | "sortKey" | "globalSecondaryIndexes"
>;

const ATTRIBUTE_TYPES: Record<string, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

const PROJECTIONS: Record<string, dynamodb.ProjectionType> = {
  ALL: dynamodb.ProjectionType.ALL,
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
  INCLUDE: dynamodb.ProjectionType.INCLUDE,
};

function attribute(definitions: AttributeDefinition[], name: string): dynamodb.Attribute {
  const found = definitions.find((d) => d.AttributeName === name);
  const type = found?.AttributeType && ATTRIBUTE_TYPES[found.AttributeType];
  if (!type) throw new Error(`table definition: key attribute ${name} has no S, N or B definition`);
  return { name, type };
}

function keys(
  definitions: AttributeDefinition[],
  schema: KeySchemaElement[] | undefined,
  where: string,
): { partitionKey: dynamodb.Attribute; sortKey?: dynamodb.Attribute } {
  const hash = schema?.filter((k) => k.KeyType === "HASH") ?? [];
  const range = schema?.filter((k) => k.KeyType === "RANGE") ?? [];
  if (hash.length !== 1 || range.length > 1 || hash.length + range.length !== (schema?.length ?? 0))
    throw new Error(`table definition: ${where} needs one HASH key and at most one RANGE key`);
  return {
    partitionKey: attribute(definitions, hash[0]!.AttributeName!),
    ...(range[0] && { sortKey: attribute(definitions, range[0].AttributeName!) }),
  };
}

export function tableKeyProps(definition: CreateTableCommandInput): TableKeyProps {
  const definitions = definition.AttributeDefinitions ?? [];
  if ((definition.LocalSecondaryIndexes?.length ?? 0) > 0)
    throw new Error("table definition: local secondary indexes are not supported");
  const indexes = (definition.GlobalSecondaryIndexes ?? []).map(
    (gsi): dynamodb.GlobalSecondaryIndexPropsV2 => {
      const projection = PROJECTIONS[gsi.Projection?.ProjectionType ?? "ALL"];
      if (!projection) throw new Error(`table definition: index ${gsi.IndexName} has an unknown projection`);
      return {
        indexName: gsi.IndexName!,
        ...keys(definitions, gsi.KeySchema, `index ${gsi.IndexName}`),
        projectionType: projection,
        ...(projection === dynamodb.ProjectionType.INCLUDE && {
          nonKeyAttributes: gsi.Projection?.NonKeyAttributes ?? [],
        }),
      };
    },
  );
  return {
    ...keys(definitions, definition.KeySchema, "the table"),
    ...(indexes.length > 0 && { globalSecondaryIndexes: indexes }),
  };
}
