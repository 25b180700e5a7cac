import { MemoryStore } from "../../src/store/memory/memory.ts";
import { storeContract } from "./store_contract.ts";

// Two "instances" of the embedded store share one object: it lives in one process.
storeContract("memory", ({ shareWith }) => Promise.resolve(shareWith ?? new MemoryStore()));
