import type { AcceptorPort } from "../../shared/storage/ports.ts";

/** A store that is down: every call throws. */
export const downStore: AcceptorPort = {
  prepare: () => Promise.reject(new Error("down")),
  accept: () => Promise.reject(new Error("down")),
  deleteIf: () => Promise.reject(new Error("down")),
  read: () => Promise.reject(new Error("down")),
  scan: () => Promise.reject(new Error("down")),
  ping: () => Promise.reject(new Error("down")),
};

/** A store that never answers. */
export const hungStore: AcceptorPort = {
  prepare: () => new Promise(() => {}),
  accept: () => new Promise(() => {}),
  deleteIf: () => new Promise(() => {}),
  read: () => new Promise(() => {}),
  scan: () => new Promise(() => {}),
  ping: () => new Promise(() => {}),
};
