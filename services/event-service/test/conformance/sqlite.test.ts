import { brokerAdapterSuite } from "./suite.js";
import { sqliteTarget } from "./targets/sqlite.js";

brokerAdapterSuite("sqlite", sqliteTarget());
