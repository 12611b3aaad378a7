import { benchCliStartup } from "./cli-startup.js";
import { benchGateway } from "./gateway.js";

// Benchmarks print figures; they never fail on timing (the machine is shared and noisy).
const only = process.argv[2];
if (!only || only === "cli") await benchCliStartup();
if (!only || only === "gateway") await benchGateway();
