// The registry contract, once per store.
import { describeRegistryContract } from "./registry-contract";
import { STORES_UNDER_TEST } from "./stores-under-test";

for (const subject of STORES_UNDER_TEST) describeRegistryContract(subject);
