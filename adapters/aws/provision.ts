import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from "@aws-sdk/client-s3";

/**
 * Creates the table and bucket when missing, for local stand-ins and tests only: in AWS they are
 * CloudFormation resources of serverless.yml, and a Lambda never creates storage at start.
 */

/** The key schema DynamoAcceptor relies on; serverless.yml must declare the same. */
export const TABLE_KEYS = { partition: "pk", sort: "sk" } as const;

/** Waiter bounds in seconds (the SDK's minimum delay is 1 s; dynalite activates a table fast). */
const TABLE_WAIT_MAX_S = 60;
const TABLE_WAIT_DELAY_S = 1;

export async function ensureTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    const d = await client.send(new DescribeTableCommand({ TableName: table }));
    if (d.Table?.TableStatus === "ACTIVE") return;
  } catch (e) {
    if (nameOf(e) !== "ResourceNotFoundException") throw e;
    await client
      .send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [
            { AttributeName: TABLE_KEYS.partition, AttributeType: "S" },
            { AttributeName: TABLE_KEYS.sort, AttributeType: "S" },
          ],
          KeySchema: [
            { AttributeName: TABLE_KEYS.partition, KeyType: "HASH" },
            { AttributeName: TABLE_KEYS.sort, KeyType: "RANGE" },
          ],
        }),
      )
      .catch((err: unknown) => {
        // Another starter created it concurrently: fine, wait for it below.
        if (nameOf(err) !== "ResourceInUseException") throw err;
      });
  }
  await waitUntilTableExists(
    {
      client,
      maxWaitTime: TABLE_WAIT_MAX_S,
      minDelay: TABLE_WAIT_DELAY_S,
      maxDelay: TABLE_WAIT_DELAY_S,
    },
    { TableName: table },
  );
}

export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if (nameOf(e) !== "NotFound" && nameOf(e) !== "NoSuchBucket") throw e;
    await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
      if (nameOf(err) !== "BucketAlreadyOwnedByYou") throw err;
    });
  }
}

function nameOf(e: unknown): unknown {
  return (e as { name?: unknown } | null)?.name;
}
