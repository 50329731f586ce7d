import { describe } from "vitest";
import { InMemoryRegistrationStore } from "../../lib/local/in-memory-registration-store.js";
import { registrationStoreContract } from "./store-contract.js";

describe("InMemoryRegistrationStore", () => {
  registrationStoreContract(async () => new InMemoryRegistrationStore());
});
