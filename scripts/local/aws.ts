import { join } from "node:path";
import { handle } from "hono/aws-lambda";
import { buildApp } from "../../adapters/aws/app.ts";
import { LOCAL_REGION, startDynalite } from "./dynalite.ts";
import { serveLambda } from "./lambda-host.ts";
import { S3RVER_CREDENTIALS, startS3rver } from "./s3rver.ts";
import type { LocalProvider, LocalProviderOptions } from "./types.ts";

const TABLE = "tessera";
const BUCKET = "tessera";

export interface AwsLocalProvider extends LocalProvider {
  /** Where the stand-ins listen, for tests and tooling that inspect the stores directly. */
  readonly stores: {
    readonly dynamodb: { readonly endpoint: string; readonly table: string };
    readonly s3: { readonly endpoint: string; readonly bucket: string };
  };
}

/**
 * The AWS provider locally: dynalite for DynamoDB, s3rver for S3, and the Lambda handler behind a
 * local API Gateway HTTP API (payload 2.0) host. Data lives under opts.dataDir and survives
 * restarts of the stand-ins and of the whole process.
 */
export async function startAws(opts: LocalProviderOptions): Promise<AwsLocalProvider> {
  const [dynalite, s3rver] = await Promise.all([
    startDynalite({ dataDir: join(opts.dataDir, "dynalite"), table: TABLE }),
    startS3rver({ dataDir: join(opts.dataDir, "s3rver"), bucket: BUCKET }),
  ]);
  try {
    const app = buildApp(
      {
        ...opts.env,
        TESSERA_TABLE: TABLE,
        TESSERA_BUCKET: BUCKET,
        AWS_REGION: LOCAL_REGION,
        DYNAMODB_ENDPOINT: dynalite.endpoint,
        S3_ENDPOINT: s3rver.endpoint,
      },
      // s3rver accepts only its own key pair and dynalite accepts any, so one pair serves both;
      // passing it explicitly keeps the host's AWS_* variables out of local runs.
      { credentials: S3RVER_CREDENTIALS },
    );
    const host = await serveLambda(handle(app), { port: opts.port, functionName: "tessera-aws" });
    let stopped: Promise<void> | undefined;
    return {
      provider: "aws",
      url: host.url,
      stores: {
        dynamodb: { endpoint: dynalite.endpoint, table: TABLE },
        s3: { endpoint: s3rver.endpoint, bucket: BUCKET },
      },
      stop: () => {
        stopped ??= host.close().then(async () => {
          await Promise.all([dynalite.stop(), s3rver.stop()]);
        });
        return stopped;
      },
      standIns: {
        dynalite: { stop: dynalite.stop, start: dynalite.start },
        s3rver: { stop: s3rver.stop, start: s3rver.start },
      },
    };
  } catch (e) {
    await Promise.all([dynalite.stop(), s3rver.stop()]);
    throw e;
  }
}
