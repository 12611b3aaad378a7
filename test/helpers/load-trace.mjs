// `node --import` this file to append every module URL the process loads to $OPENCLAW_TEST_LOAD_TRACE.
import { register } from "node:module";

register("./load-trace-hooks.mjs", import.meta.url);
