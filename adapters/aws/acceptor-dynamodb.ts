import {
  type AttributeValue,
  BatchGetItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { isStoredAccept } from "../../shared/quorum/acceptor.ts";
import { maxBallot } from "../../shared/quorum/ballot.ts";
import {
  type AcceptEntry,
  type AcceptorRecord,
  type AcceptReply,
  type BallotString,
  type DeleteEntry,
  type DeleteReply,
  emptyRecord,
  type PrepareReply,
  type PrepareRequest,
  type ScanPage,
} from "../../shared/quorum/messages.ts";
import { partitionOf } from "../../shared/storage/partition.ts";
import { type AcceptorPort, clampLimit } from "../../shared/storage/ports.ts";

/**
 * Table layout: pk (S) = partitionOf(key), sk (S) = the full key; promised, accepted and value are
 * plain S attributes, absent when "" (no ballot) or null (no value), so an empty string is never
 * stored and `attribute_not_exists` reads as "no ballot". Each key is one conditional UpdateItem:
 * the acceptor rules fit a condition expression exactly, and keys of a batch are independent, so
 * no transaction is needed (dynalite has none anyway).
 *
 * Scans need the partitions under a prefix: a registry item per partition (pk REGISTRY_PK,
 * sk = partition) is written before the first write to that partition from this container.
 */

/** Key attribute values must be non-empty strings; a space never occurs in a key, so these
 * partition keys can never collide with a real partition. */
const REGISTRY_PK = " partitions";
const PING_KEY = { pk: { S: " ping" }, sk: { S: " ping" } } as const;

/** BatchGetItem accepts at most 100 keys per call. */
const BATCH_GET_MAX = 100;
/** UnprocessedKeys come back under throttling; retry with doubling backoff this many times. */
const UNPROCESSED_RETRIES = 8;
const UNPROCESSED_BACKOFF_MS = 20;
/** Partitions queried concurrently by one scan round: enough to fill a page of small sections in
 * one round trip, few enough not to burst read capacity. */
const SCAN_FANOUT = 8;
/** Remembered registered partitions per container; beyond this the memo is dropped (re-registering
 * is an idempotent put, so forgetting only costs a write). */
const REGISTERED_MEMO_MAX = 10_000;
/** Keys are printable ASCII (0x21-0x7e): any key starting with `p` is < p + "\x7f", and the
 * smallest key after `k` is k + "!". */
const KEY_CHAR_AFTER_MAX = "\x7f";
const KEY_CHAR_MIN = "!";

const NAMES = { "#p": "promised", "#a": "accepted", "#v": "value" } as const;
const PREPARE_CONDITION =
  "(attribute_not_exists(#p) OR #p < :b) AND (attribute_not_exists(#a) OR #a < :b)";
const ACCEPT_CONDITION =
  "(attribute_not_exists(#p) OR #p <= :b) AND (attribute_not_exists(#a) OR #a < :b)";

type Item = Record<string, AttributeValue>;

export interface DynamoAcceptorOptions {
  readonly client: DynamoDBClient;
  readonly table: string;
}

export class DynamoAcceptor implements AcceptorPort {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly registered = new Set<string>();

  constructor(opts: DynamoAcceptorOptions) {
    this.client = opts.client;
    this.table = opts.table;
  }

  async prepare(req: PrepareRequest): Promise<PrepareReply[]> {
    await this.register(req.keys);
    return Promise.all(req.keys.map((key) => this.prepareOne(key, req.ballot)));
  }

  async accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    await this.register(entries.map((e) => e.key));
    return Promise.all(entries.map((e) => this.acceptOne(e)));
  }

  async deleteIf(entries: readonly DeleteEntry[]): Promise<DeleteReply[]> {
    return Promise.all(entries.map((e) => this.deleteOne(e)));
  }

  async read(keys: readonly string[]): Promise<AcceptorRecord[]> {
    // BatchGetItem rejects duplicate keys in one request.
    const unique = [...new Set(keys)];
    const found = new Map<string, AcceptorRecord>();
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) {
      for (const item of await this.batchGet(unique.slice(i, i + BATCH_GET_MAX))) {
        const rec = recordOf(item);
        found.set(rec.key, rec);
      }
    }
    return keys.map((k) => found.get(k) ?? emptyRecord(k));
  }

  async scan(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ScanPage> {
    const limit = clampLimit(opts.limit);
    const hi = prefix + KEY_CHAR_AFTER_MAX;
    const lo =
      opts.cursor !== undefined && opts.cursor >= prefix ? opts.cursor + KEY_CHAR_MIN : prefix;
    if (lo >= hi) return { records: [] };
    // A partition holds keys `P/<last segment>` only, so it can hold keys in [lo, hi) if it starts
    // with the prefix, if it is the prefix up to its last '/', or if it is "_" (keys with no '/').
    const lastSlash = prefix.lastIndexOf("/");
    const parts = new Set(await this.registeredUnder(prefix));
    parts.add("_");
    if (lastSlash > 0) parts.add(prefix.slice(0, lastSlash));
    const queue = [...parts]
      .map((p) => ({
        p,
        from: p === "_" ? lo : maxString(lo, `${p}/`),
        // "_" also holds keys without any '/', so only real partitions have a tighter bound.
        to: p === "_" ? hi : `${p}/${KEY_CHAR_AFTER_MAX}`,
      }))
      .filter((x) => x.from < hi && x.from < x.to)
      .sort((x, y) => (x.from < y.from ? -1 : x.from > y.from ? 1 : 0));
    // Merge partitions in order of their first possible key; stop once the page (plus one record to
    // know there is more) is full and no remaining partition can start before its last key.
    let got: AcceptorRecord[] = [];
    let at = 0;
    while (at < queue.length) {
      const cut = got[limit];
      const round: typeof queue = [];
      for (; at < queue.length && round.length < SCAN_FANOUT; at++) {
        if (cut && queue[at]!.from > cut.key) break;
        round.push(queue[at]!);
      }
      if (round.length === 0) break;
      const pages = await Promise.all(
        round.map((x) => this.queryRange(x.p, x.from, hi, limit + 1)),
      );
      got = got
        .concat(...pages)
        .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
        .slice(0, limit + 1);
    }
    const page = got.slice(0, limit);
    const last = page.at(-1);
    return got.length > limit && last ? { records: page, cursor: last.key } : { records: page };
  }

  async ping(): Promise<void> {
    await this.client.send(new GetItemCommand({ TableName: this.table, Key: { ...PING_KEY } }));
  }

  private async prepareOne(key: string, ballot: BallotString): Promise<PrepareReply> {
    if (ballot === "") return { ok: false, key, conflict: await this.conflictOf(key) };
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyOf(key),
          UpdateExpression: "SET #p = :b",
          ConditionExpression: PREPARE_CONDITION,
          ExpressionAttributeNames: { "#p": NAMES["#p"], "#a": NAMES["#a"] },
          ExpressionAttributeValues: { ":b": { S: ballot } },
          // The old image is read in the same atomic step as the promise.
          ReturnValues: "ALL_OLD",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      const old = out.Attributes ? recordOf(out.Attributes) : emptyRecord(key);
      return { ok: true, key, accepted: old.accepted, value: old.value };
    } catch (e) {
      return { ok: false, key, conflict: await this.conflictOf(key, e) };
    }
  }

  private async acceptOne(e: AcceptEntry): Promise<AcceptReply> {
    const { key, ballot, value } = e;
    if (ballot === "") return { ok: false, key, conflict: await this.conflictOf(key) };
    const values: Item = { ":b": { S: ballot }, ":p": { S: maxBallot(ballot, e.next ?? "") } };
    if (value !== null) values[":v"] = { S: value };
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyOf(key),
          UpdateExpression:
            value === null ? "SET #a = :b, #p = :p REMOVE #v" : "SET #a = :b, #p = :p, #v = :v",
          ConditionExpression: ACCEPT_CONDITION,
          ExpressionAttributeNames: { ...NAMES },
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { ok: true, key };
    } catch (err) {
      const rec = await this.recordAfterRefusal(key, err);
      // A repeat of the stored accept (a duplicated delivery) is acknowledged and changes nothing.
      // Read after the failed condition, the record may already be newer than at the refusal; an
      // ack is still true then (it holds this very accept), and a refusal never claims absence.
      if (isStoredAccept(rec, e)) return { ok: true, key };
      return { ok: false, key, conflict: maxBallot(rec.promised, rec.accepted) };
    }
  }

  /** One conditional DeleteItem: the DeleteEntry rule as a condition expression. */
  private async deleteOne(e: DeleteEntry): Promise<DeleteReply> {
    const { key } = e;
    if (e.accepted === "") return { ok: false, key };
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: keyOf(key),
          ConditionExpression:
            e.promised === ""
              ? "attribute_not_exists(#v) AND #a = :a AND attribute_not_exists(#p)"
              : "attribute_not_exists(#v) AND #a = :a AND #p = :p",
          ExpressionAttributeNames: { ...NAMES },
          ExpressionAttributeValues: {
            ":a": { S: e.accepted },
            ...(e.promised === "" ? {} : { ":p": { S: e.promised } }),
          },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { ok: true, key };
    } catch (err) {
      // The condition also fails on an item that does not exist: that key is already gone.
      const rec = await this.recordAfterRefusal(key, err);
      return { ok: rec.promised === "" && rec.accepted === "" && rec.value === null, key };
    }
  }

  /** The acceptor's highest ballot after a refusal (see recordAfterRefusal). */
  private async conflictOf(key: string, err?: unknown): Promise<BallotString> {
    const rec = await this.recordAfterRefusal(key, err);
    return maxBallot(rec.promised, rec.accepted);
  }

  /**
   * The record that made a condition fail. Real DynamoDB returns the item with the
   * ConditionalCheckFailedException; dynalite does not, so fall back to a consistent read (ballots
   * only grow, so a later read still names a ballot at least as high as the one that refused).
   * Any other error is a broken store and propagates.
   */
  private async recordAfterRefusal(key: string, err?: unknown): Promise<AcceptorRecord> {
    if (err !== undefined && !isConditionFailure(err)) throw err;
    const item = (err as { Item?: Item } | undefined)?.Item;
    return item ? recordOf(item) : await this.getOne(key);
  }

  private async getOne(key: string): Promise<AcceptorRecord> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true }),
    );
    return out.Item ? recordOf(out.Item) : emptyRecord(key);
  }

  private async batchGet(keys: readonly string[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending: Item[] = keys.map(keyOf);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > UNPROCESSED_RETRIES) throw new Error("DynamoDB BatchGetItem kept throttling");
      if (attempt > 0) await sleep(UNPROCESSED_BACKOFF_MS * 2 ** (attempt - 1));
      const out = await this.client.send(
        new BatchGetItemCommand({
          RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      items.push(...(out.Responses?.[this.table] ?? []));
      pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
    }
    return items;
  }

  /** Records of partition `p` with keys in [from, hi), at most `max` (following 1 MB pages). */
  private async queryRange(
    p: string,
    from: string,
    hi: string,
    max: number,
  ): Promise<AcceptorRecord[]> {
    const out: AcceptorRecord[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :lo AND :hi",
          ExpressionAttributeValues: { ":pk": { S: p }, ":lo": { S: from }, ":hi": { S: hi } },
          ConsistentRead: true,
          Limit: max - out.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      out.push(...(page.Items ?? []).map(recordOf));
      start = page.LastEvaluatedKey;
    } while (start && out.length < max);
    return out;
  }

  /** Registered partitions starting with `prefix`. */
  private async registeredUnder(prefix: string): Promise<string[]> {
    const parts: string[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression:
            prefix === "" ? "pk = :pk" : "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: {
            ":pk": { S: REGISTRY_PK },
            ...(prefix === "" ? {} : { ":prefix": { S: prefix } }),
          },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) if (item.sk?.S) parts.push(item.sk.S);
      start = page.LastEvaluatedKey;
    } while (start);
    return parts;
  }

  /** Registers the partitions of `keys` before anything is written to them, so a scan that
   * starts after a write returns can always find it. */
  private async register(keys: readonly string[]): Promise<void> {
    const fresh = [...new Set(keys.map(partitionOf))].filter((p) => !this.registered.has(p));
    if (fresh.length === 0) return;
    await Promise.all(
      fresh.map((p) =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { pk: { S: REGISTRY_PK }, sk: { S: p } },
          }),
        ),
      ),
    );
    if (this.registered.size + fresh.length > REGISTERED_MEMO_MAX) this.registered.clear();
    for (const p of fresh) this.registered.add(p);
  }
}

function keyOf(key: string): Item {
  return { pk: { S: partitionOf(key) }, sk: { S: key } };
}

function recordOf(item: Item): AcceptorRecord {
  return {
    key: item.sk?.S ?? "",
    promised: item.promised?.S ?? "",
    accepted: item.accepted?.S ?? "",
    value: item.value?.S ?? null,
  };
}

function isConditionFailure(e: unknown): boolean {
  return (e as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

function maxString(a: string, b: string): string {
  return a >= b ? a : b;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
