import { z } from "@hono/zod-openapi";
import { Id } from "./ids.ts";
import { Name } from "./text.ts";

/** A licensed organisation that sells tickets (a theatre company, a venue operator). */
export const Theater = z.object({ id: Id, name: Name }).strict().openapi("Theater");
export type Theater = z.infer<typeof Theater>;

export const CreateTheaterInput = z.object({ name: Name }).strict().openapi("CreateTheaterInput");
export type CreateTheaterInput = z.infer<typeof CreateTheaterInput>;

export const UpdateTheaterInput = CreateTheaterInput.partial().openapi("UpdateTheaterInput");
export type UpdateTheaterInput = z.infer<typeof UpdateTheaterInput>;

export function newTheater(id: string, input: CreateTheaterInput): Theater {
  return Theater.parse({ id, ...input });
}
