import { MemoryStore } from "../../src/store/memory/memory.ts";
import { creditIndexContract } from "./credit_index_contract.ts";
import { pushStateContract } from "./push_state_contract.ts";
import { limitsContract } from "./limits_contract.ts";
import { storeContract, type StoreFactory } from "./store_contract.ts";
import { subscriptionContract } from "./subscription_contract.ts";
import { answerManyContract } from "./answer_many_contract.ts";

// Two "instances" of the embedded store share one object: it lives in one process.
const factory: StoreFactory = ({ shareWith }) => Promise.resolve(shareWith ?? new MemoryStore());
storeContract("memory", factory);
creditIndexContract("memory", factory);
subscriptionContract("memory", factory);
answerManyContract("memory", factory);
pushStateContract("memory", factory);
limitsContract("memory", factory);
