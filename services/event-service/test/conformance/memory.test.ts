import { brokerAdapterSuite } from "./suite.js";
import { memoryTarget } from "./targets/memory.js";

brokerAdapterSuite("memory", memoryTarget());
