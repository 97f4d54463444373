/**
 * The slice of the Workers runtime API this adapter uses, typed by hand: @cloudflare/workers-types
 * is not a project dependency, and its globals would clash with the DOM lib the rest of the tree
 * compiles against. Names and shapes follow the runtime's own (workerd) declarations.
 */

export type SqlStorageValue = string | number | null | ArrayBuffer;

export interface SqlStorageCursor<T> extends Iterable<T> {
  toArray(): T[];
  one(): T;
}

export interface SqlStorage {
  exec<T extends Record<string, SqlStorageValue>>(
    query: string,
    ...bindings: SqlStorageValue[]
  ): SqlStorageCursor<T>;
}

export interface DurableObjectId {
  toString(): string;
  equals(other: DurableObjectId): boolean;
}

export interface DurableObjectStorage {
  readonly sql: SqlStorage;
  transactionSync<T>(fn: () => T): T;
}

export interface DurableObjectState {
  readonly id: DurableObjectId;
  readonly storage: DurableObjectStorage;
}

/** What a stub exposes of an RPC target: every method, made asynchronous by the call boundary. */
export type Rpc<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

export type DurableObjectStub<T> = Rpc<T> & { readonly id: DurableObjectId };

export interface DurableObjectNamespace<T> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub<T>;
}

export interface R2Object {
  readonly key: string;
}

export interface R2ObjectBody extends R2Object {
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface R2ListOptions {
  prefix?: string;
  limit?: number;
  cursor?: string;
  startAfter?: string;
}

export type R2Objects = {
  readonly objects: readonly R2Object[];
} & ({ readonly truncated: true; readonly cursor: string } | { readonly truncated: false });

export interface R2Bucket {
  put(
    key: string,
    value: ArrayBuffer | ArrayBufferView | string,
    options?: { httpMetadata?: { contentType?: string } },
  ): Promise<R2Object | null>;
  get(key: string): Promise<R2ObjectBody | null>;
  list(options?: R2ListOptions): Promise<R2Objects>;
}

export interface ScheduledController {
  readonly scheduledTime: number;
  readonly cron: string;
}
