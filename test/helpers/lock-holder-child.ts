/**
 * A writer the test can kill while it holds a file's lock, mid-write: it takes the lock the
 * product takes, starts a temp file the way an atomic write does, says so, then waits.
 */
import { writeFileSync, writeSync } from "node:fs";
import { tempPathFor, withFileLock } from "../../src/shared/atomic-file.js";

const [file] = process.argv.slice(2) as [string];
await withFileLock(file, async () => {
  writeFileSync(tempPathFor(file), '{"half": ');
  writeSync(1, "locked\n");
  await new Promise(() => setInterval(() => undefined, 1 << 30));
});
