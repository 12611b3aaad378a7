import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { stat, writeFile } from "node:fs/promises";
import { CLI, createTestState, readStore, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeIdp, freePort, startFakeIdp } from "./helpers/fake-idp.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

const CLIENT_SECRET = "csc_FAKE-confidential-client-secret-0001";

let idp: FakeIdp;
let chutes: FakeUpstream;
let state: TestState;
before(async () => {
  idp = await startFakeIdp();
  idp.clientSecret = CLIENT_SECRET;
  chutes = await startFakeChutes();
});
after(async () => {
  await idp.close();
  await chutes.close();
});
beforeEach(async () => {
  idp.refreshCalls = 0;
  const redirectUri = `http://127.0.0.1:${await freePort()}/oauth-callback`;
  state = await createTestState({ CHUTES_CLIENT_ID: idp.clientId, CHUTES_OAUTH_REDIRECT_URI: redirectUri, BROWSER: "none" });
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url, oauth: { baseUrl: idp.url } } } } });
});
afterEach(() => state.cleanup());

/** Sign in as the CLI would, with CHUTES_CLIENT_SECRET set for this run only; the test plays the browser. */
async function signIn(): Promise<void> {
  const child = spawn(process.execPath, [CLI, "onboard", "--non-interactive", "--accept-risk", "--auth-choice", "chutes"], {
    env: { ...state.env, CHUTES_CLIENT_SECRET: CLIENT_SECRET },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
      const match = /(http:\/\/127\.0\.0\.1:\d+\/idp\/authorize\?\S+)/.exec(stderr);
      if (match) resolve(match[1] as string);
    });
    child.on("close", () => reject(new Error(`onboard exited early:\n${stderr}`)));
  });
  const redirect = await fetch(url, { redirect: "manual" });
  await (await fetch(redirect.headers.get("location") as string)).text();
  assert.equal(await exited, 0, stderr);
}

test("the client secret used at sign-in is kept with the profile, so a refresh works without the variable", async () => {
  await signIn();
  const store = await readStore(state);
  const profile = store.profiles["chutes:oauth"];
  assert.equal(profile.clientSecret, CLIENT_SECRET);
  assert.equal((await stat(state.authProfilesPath)).mode & 0o777, 0o600);
  // The access token has expired; CHUTES_CLIENT_SECRET is not set in this process.
  profile.expires = Date.now() - 1000;
  await writeFile(state.authProfilesPath, JSON.stringify(store), { mode: 0o600 });
  const chat = await runCli(state, ["chat", "hi"]);
  assert.equal(chat.code, 0, chat.stderr);
  assert.equal(idp.refreshCalls, 1);
  const refreshed = (await readStore(state)).profiles["chutes:oauth"];
  assert.notEqual(refreshed.refresh, profile.refresh);
  assert.equal(chutes.requests.at(-1)?.headers.authorization, `Bearer ${refreshed.access}`);
  for (const args of [
    ["models", "auth", "list", "--json"],
    ["models", "status", "--json"],
    ["config", "get", "--json"],
  ]) {
    const result = await runCli(state, args);
    assert.ok(!result.stdout.includes(CLIENT_SECRET) && !result.stderr.includes(CLIENT_SECRET), args.join(" "));
  }
});
