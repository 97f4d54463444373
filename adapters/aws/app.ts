import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "hono";
import type { LambdaEvent } from "hono/aws-lambda";
import { z } from "zod";
import { createApp } from "../../functions/app.ts";
import { loadConfig } from "../../shared/config.ts";
import { DeploymentEnv } from "../../shared/env.ts";
import { BATCH_KEYS_MAX } from "../../shared/storage/ports.ts";
import { DynamoAcceptor } from "./acceptor-dynamodb.ts";
import { S3Blobs } from "./blobs-s3.ts";

/** The Lambda's environment: set by serverless.yml in AWS, by scripts/local/aws.ts locally. */
export const AwsEnv = DeploymentEnv.extend({
  TESSERA_PROVIDER: z.literal("aws"),
  TESSERA_TABLE: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, "DynamoDB table name (3-255 chars)"),
  TESSERA_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "S3 bucket name"),
  AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, "AWS region, e.g. eu-west-1"),
  /** Local stand-ins only (dynalite, s3rver); absent in AWS. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  S3_ENDPOINT: z.url().optional(),
});
export type AwsEnv = z.infer<typeof AwsEnv>;

/** DynamoDB answers in milliseconds: a call stuck longer is a sick store, and the quorum does
 * better counting it as down than waiting on it. */
const DYNAMO_TIMEOUT_MS = 2_000;
/** Blob puts and gets carry whole audit segments; allow for a slow transfer. */
const S3_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 1_000;
/** One socket per key of a batch, so a full batch of per-key UpdateItems goes out in one wave
 * (the SDK's default pool is 50). */
const DYNAMO_SOCKETS = BATCH_KEYS_MAX;

export interface BuildOptions {
  /** Explicit credentials for local stand-ins; in Lambda the SDK's default chain is right. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * The client address API Gateway puts in the event (the connection's, not a header). Unlike
 * hono/aws-lambda's getConnInfo this never falls back to X-Forwarded-For, which the client writes.
 * Undefined for in-process calls (the scheduled sweep), which have no event.
 */
function sourceIp(c: Context): string | undefined {
  const rc = (c.env as Partial<LambdaEvent> | undefined)?.requestContext;
  if (rc === undefined) return undefined;
  // Payload format 2.0 (serverless.yml deploys an HTTP API), the only event this function gets.
  return "http" in rc ? rc.http?.sourceIp : undefined;
}

/** Builds the app from an environment; throws a ConfigError naming every bad variable. */
export function buildApp(env: Record<string, string | undefined>, opts: BuildOptions = {}) {
  const cfg = loadConfig(AwsEnv, env);
  const common = {
    region: cfg.AWS_REGION,
    ...(opts.credentials && { credentials: opts.credentials }),
  };
  const pool = { keepAlive: true, maxSockets: DYNAMO_SOCKETS };
  const dynamo = new DynamoDBClient({
    ...common,
    endpoint: cfg.DYNAMODB_ENDPOINT,
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: DYNAMO_TIMEOUT_MS,
      httpAgent: pool,
      httpsAgent: pool,
    },
  });
  const s3 = new S3Client({
    ...common,
    endpoint: cfg.S3_ENDPOINT,
    // Path-style addressing for s3rver, which cannot serve bucket subdomains of 127.0.0.1.
    forcePathStyle: !!cfg.S3_ENDPOINT,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: S3_TIMEOUT_MS },
  });
  return createApp({
    provider: cfg.TESSERA_PROVIDER,
    cluster: cfg.TESSERA_CLUSTER,
    signingKey: cfg.TESSERA_SIGNING_KEY,
    settings: cfg,
    acceptor: new DynamoAcceptor({ client: dynamo, table: cfg.TESSERA_TABLE }),
    blobs: new S3Blobs({ client: s3, bucket: cfg.TESSERA_BUCKET }),
    storeName: "dynamodb",
    clientAddress: sourceIp,
  });
}
