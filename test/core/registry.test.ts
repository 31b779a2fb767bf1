import { Registry } from "../../src/core/registry";
import { BASE_REVISION, describeRegistryContract } from "./registry-contract";

describeRegistryContract("in-memory", (clock, limits) => {
  let next = 0;
  return new Registry({ clock, newInstanceId: () => `generated-${++next}`, baseRevision: BASE_REVISION, limits });
});
