import { MemoryAcceptor, MemoryBlobs } from "../../shared/storage/memory.ts";
import { acceptorContract, blobContract } from "./contract.ts";

const acceptor = new MemoryAcceptor();
const blobs = new MemoryBlobs();
acceptorContract("memory", { acceptor: () => acceptor });
blobContract("memory", { acceptor: () => acceptor, blobs: () => blobs });
