import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { CLI, createTestState, readConfig, readStore, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeIdp, freePort, startFakeIdp } from "./helpers/fake-idp.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { spawnCliInPty } from "./helpers/pty.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let idp: FakeIdp;
let chutes: FakeUpstream;
let state: TestState;
let redirectUri: string;

before(async () => {
  idp = await startFakeIdp();
  chutes = await startFakeChutes();
});
after(async () => {
  await idp.close();
  await chutes.close();
});
beforeEach(async () => {
  idp.deny = false;
  redirectUri = `http://127.0.0.1:${await freePort()}/oauth-callback`;
  // BROWSER=none: a local sign-in that does not launch anything; the test plays the browser.
  state = await createTestState({ CHUTES_CLIENT_ID: idp.clientId, CHUTES_OAUTH_REDIRECT_URI: redirectUri, BROWSER: "none" });
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url, oauth: { baseUrl: idp.url } } } } });
});
afterEach(() => state.cleanup());

/** Start `openclaw onboard …` and resolve with the sign-in URL it prints. */
function startOnboard(args: string[], input?: string) {
  const child = spawn(process.execPath, [CLI, "onboard", ...args], { env: state.env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  if (input !== undefined) child.stdin.end(input);
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const url = new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
      const match = URL_PATTERN.exec(stderr);
      if (match) resolve(match[1] as string);
    });
    child.on("close", () => reject(new Error(`onboard exited before printing the URL:\n${stderr}`)));
  });
  return { child, url, exited, output: () => ({ stdout, stderr }) };
}

const URL_PATTERN = /(http:\/\/127\.0\.0\.1:\d+\/idp\/authorize\?[A-Za-z0-9%._~:/?&=+-]+)/;
const signInUrl = (output: string) => URL_PATTERN.exec(output)?.[1] as string;

/** Be the browser: ask the IdP to authorize, and return where it redirects. */
async function authorize(url: string): Promise<string> {
  const response = await fetch(url, { redirect: "manual" });
  assert.equal(response.status, 302);
  return response.headers.get("location") as string;
}

test("local sign-in end to end: PKCE, state, loopback callback, tokens stored, config written", async () => {
  const run = startOnboard(["--non-interactive", "--accept-risk", "--auth-choice", "chutes"]);
  const url = new URL(await run.url);
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.equal(url.searchParams.get("scope"), "openid profile chutes:invoke");
  assert.equal(url.searchParams.get("redirect_uri"), redirectUri);
  const location = await authorize(url.toString());
  // A visit that is not this sign-in's answer is turned away, and the wait goes on.
  const stray = new URL(location);
  stray.searchParams.set("state", "someone-else");
  const turnedAway = await fetch(stray);
  assert.equal(turnedAway.status, 400);
  const callback = await fetch(location);
  assert.match(await callback.text(), /You can close this tab/);
  assert.equal(await run.exited, 0, run.output().stderr);
  assert.match(run.output().stdout, /Signed in to Chutes as alice/);
  const profile = (await readStore(state)).profiles["chutes:oauth"];
  assert.equal(profile.type, "oauth");
  assert.match(profile.access, /^cak_/);
  assert.match(profile.refresh, /^crt_/);
  assert.ok(profile.expires > Date.now() + 3_000_000);
  assert.equal(profile.clientId, idp.clientId);
  assert.equal(profile.account.username, "alice");
  const config = await readConfig(state);
  assert.deepEqual(config.auth.profiles["chutes:oauth"], { provider: "chutes", mode: "oauth" });
  assert.equal(config.agents.defaults.model.primary, "chutes/zai-org/GLM-4.7-TEE");
  assert.equal(config.agents.defaults.models["chutes-fast"].alias, "chutes/zai-org/GLM-4.7-FP8");
  assert.ok(!JSON.stringify(config).includes(profile.access));

  // The token is what chat sends to Chutes.
  const chat = await runCli(state, ["chat", "hi"]);
  assert.equal(chat.code, 0, chat.stderr);
  assert.equal(chutes.requests.at(-1)?.headers.authorization, `Bearer ${profile.access}`);
});

test("paste sign-in through a real terminal (--no-browser)", async () => {
  const session = spawnCliInPty(["onboard", "--auth-choice", "chutes", "--accept-risk", "--no-browser"], state.env);
  await session.waitFor(/idp\/authorize\?\S+/);
  const url = signInUrl(session.output());
  await session.waitFor(/Paste the URL/);
  const location = await authorize(url);
  session.write(location);
  await new Promise((resolve) => setTimeout(resolve, 100));
  session.write("\r");
  // The default model is a TEE model: end-to-end encryption is offered (Enter keeps the default, no).
  await session.waitFor(/Encrypt prompts end to end/);
  session.write("\r");
  assert.equal(await session.exit, 0, session.output());
  assert.equal((await readStore(state)).profiles["chutes:oauth"].account.username, "alice");
});

test("a denied sign-in ends with a clear message and writes nothing", async () => {
  idp.deny = true;
  const run = startOnboard(["--non-interactive", "--accept-risk", "--auth-choice", "chutes"]);
  await fetch(await authorize(await run.url));
  assert.equal(await run.exited, 1);
  assert.match(run.output().stderr, /sign-in was denied at Chutes; nothing was written/);
  await assert.rejects(stat(state.authProfilesPath));
  assert.equal((await readConfig(state)).auth, undefined);
});

test("a pasted redirect with the wrong state is refused", async () => {
  const run = startOnboard(
    ["--non-interactive", "--accept-risk", "--auth-choice", "chutes", "--no-browser"],
    `${redirectUri}?code=abc&state=not-ours\n`,
  );
  assert.equal(await run.exited, 1);
  assert.match(run.output().stderr, /state in the redirect does not match/);
  await assert.rejects(stat(state.authProfilesPath));
});

test("a pasted bare code is refused; a query string alone is accepted", async () => {
  const bare = startOnboard(["--non-interactive", "--accept-risk", "--auth-choice", "chutes", "--no-browser"], "AbCdEf0123456789\n");
  assert.equal(await bare.exited, 1);
  assert.match(bare.output().stderr, /looks like a bare code/);

  const session = spawnCliInPty(["onboard", "--auth-choice", "chutes", "--accept-risk", "--no-browser"], state.env);
  await session.waitFor(/Paste the URL/);
  const url = signInUrl(session.output());
  const query = new URL(await authorize(url)).search;
  session.write(query);
  await new Promise((resolve) => setTimeout(resolve, 100));
  session.write("\r");
  assert.equal(await session.exit, 0, session.output());
});

test("when the callback port is taken, sign-in falls back to pasting", async () => {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(Number(new URL(redirectUri).port), "127.0.0.1", resolve));
  try {
    const session = spawnCliInPty(["onboard", "--auth-choice", "chutes", "--accept-risk"], state.env);
    await session.waitFor(/Could not listen for the browser[\s\S]*Paste the URL/);
    const url = signInUrl(session.output());
    session.write(await authorize(url));
    await new Promise((resolve) => setTimeout(resolve, 100));
    session.write("\r");
    assert.equal(await session.exit, 0, session.output());
  } finally {
    squatter.close();
  }
});

test("without CHUTES_CLIENT_ID, non-interactive sign-in says what to set", async () => {
  const result = await runCli(state, ["onboard", "--non-interactive", "--accept-risk", "--auth-choice", "chutes"], {
    env: { CHUTES_CLIENT_ID: "" },
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /set CHUTES_CLIENT_ID/);
});

test("a redirect URI that is not loopback http is refused", async () => {
  const result = await runCli(state, ["onboard", "--non-interactive", "--accept-risk", "--auth-choice", "chutes"], {
    env: { CHUTES_OAUTH_REDIRECT_URI: "https://example.com/callback" },
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /must be http on a loopback address/);
});
