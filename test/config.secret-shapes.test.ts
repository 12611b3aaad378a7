import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createTestState, isOneLineError, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

const SECRETS = {
  customAuth: "FAKEcustomauth0123456789wxyz",
  apim: "FAKEapimsubscription0123456789abcd",
  userPass: "FAKEurlpassword0123456789efgh",
  queryKey: "FAKEquerykey0123456789ijkl",
  oauthKey: "FAKEoauthkey0123456789mnop",
  envUrlPass: "FAKEenvurlpassword0123qrst",
  redisPass: "FAKEredispassword0123uvwx",
  postgresPass: "FAKEpostgrespassword01yzab",
};

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

const set = (...args: string[]) => runCli(state, ["config", "set", ...args]);

test("config get redacts unrecognised credential headers and credentials inside URLs", async () => {
  await writeConfig(state, {
    env: { PROXY_URL: `http://proxy:${SECRETS.envUrlPass}@10.0.0.1:3128` },
    models: {
      providers: {
        azure: {
          baseUrl: `https://me:${SECRETS.userPass}@llm.example.com/v1`,
          embeddingsBaseUrl: `https://emb.example.com/v1?api_key=${SECRETS.queryKey}&region=eu`,
          headers: { "X-Custom-Auth": SECRETS.customAuth, "Ocp-Apim-Subscription-Key": SECRETS.apim, "X-Title": "my app" },
        },
        chutes: { oauth: { baseUrl: `https://idp.example.com/?key=${SECRETS.oauthKey}` } },
      },
    },
    gateway: {
      state: { redis: `redis://:${SECRETS.redisPass}@redis:6379`, postgres: `postgres://openclaw:${SECRETS.postgresPass}@db/openclaw` },
    },
  });
  for (const args of [
    ["config", "get"],
    ["config", "get", "--json"],
    ["config", "get", "models.providers.azure.baseUrl"],
  ]) {
    const result = await runCli(state, args);
    assert.equal(result.code, 0, result.stderr);
    for (const [name, secret] of Object.entries(SECRETS)) assert.ok(!result.stdout.includes(secret), `${args.join(" ")} prints ${name}`);
  }
  const shown = JSON.parse((await runCli(state, ["config", "get", "--json"])).stdout);
  const azure = shown.models.providers.azure;
  assert.equal(azure.baseUrl, "https://me:…efgh@llm.example.com/v1");
  assert.equal(azure.embeddingsBaseUrl, "https://emb.example.com/v1?api_key=…ijkl&region=eu");
  assert.deepEqual(azure.headers, { "X-Custom-Auth": "…wxyz", "Ocp-Apim-Subscription-Key": "…abcd", "X-Title": "my app" });
  assert.equal(shown.models.providers.chutes.oauth.baseUrl, "https://idp.example.com/?key=…mnop");
  assert.equal(shown.env.PROXY_URL, "http://proxy:…qrst@10.0.0.1:3128");
  assert.deepEqual(shown.gateway.state, { redis: "redis://:…uvwx@redis:6379", postgres: "postgres://openclaw:…yzab@db/openclaw" });
});

test("config set refuses those literals, leaves the file alone, and accepts ${VAR} references", async () => {
  await writeConfig(state, { gateway: { port: 18789 } });
  const before = await readFile(state.configPath, "utf8");
  for (const [path, value] of [
    ["models.providers.azure.headers.X-Custom-Auth", SECRETS.customAuth],
    ["models.providers.azure.headers.Ocp-Apim-Subscription-Key", SECRETS.apim],
    ["models.providers.azure.baseUrl", `https://me:${SECRETS.userPass}@llm.example.com/v1`],
    ["models.providers.azure.baseUrl", `https://${SECRETS.userPass}@llm.example.com/v1`],
    ["models.providers.azure.embeddingsBaseUrl", `https://emb.example.com/v1?key=${SECRETS.queryKey}`],
    ["models.providers.chutes.oauth.baseUrl", `https://idp.example.com/?access_token=${SECRETS.oauthKey}`],
    ["gateway.state.redis", `redis://:${SECRETS.redisPass}@redis:6379`],
    ["gateway.state.postgres", `postgres://openclaw:${SECRETS.postgresPass}@db/openclaw`],
  ] as const) {
    const refused = await set(path, value);
    assert.notEqual(refused.code, 0, `${path} was accepted`);
    assert.ok(isOneLineError(refused.stderr), refused.stderr);
    assert.match(refused.stderr, /refusing to write a secret/);
    assert.ok(!refused.stderr.includes(value));
  }
  const nested = await set("models.providers.azure", "--json", JSON.stringify({ headers: { "X-Custom-Auth": SECRETS.customAuth } }));
  assert.notEqual(nested.code, 0);
  assert.equal(await readFile(state.configPath, "utf8"), before);

  assert.equal((await set("models.providers.azure.headers.X-Custom-Auth", "${AZURE_AUTH}")).code, 0);
  assert.equal((await set("models.providers.azure.baseUrl", "https://llm.example.com/v1?key=${AZURE_KEY}")).code, 0);
  assert.equal((await set("models.providers.azure.headers.X-Title", "my app")).code, 0);
  assert.equal((await set("models.providers.azure.embeddingsBaseUrl", "https://emb.example.com/v1?region=eu")).code, 0);
  assert.equal((await set("gateway.state.postgres", "postgres://openclaw:${PGPASSWORD}@db/openclaw")).code, 0);
  const shown = JSON.parse((await runCli(state, ["config", "get", "models.providers.azure", "--json"])).stdout);
  assert.equal(shown.baseUrl, "https://llm.example.com/v1?key=${AZURE_KEY}");
});

test("models status shows a provider URL without the credentials substituted into it", async () => {
  await writeConfig(state, { models: { providers: { azure: { baseUrl: "https://llm.example.com/v1?key=${AZURE_URL_KEY}" } } } });
  const result = await runCli(state, ["models", "status", "--json"], { env: { AZURE_URL_KEY: SECRETS.queryKey } });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stdout.includes(SECRETS.queryKey));
  const azure = JSON.parse(result.stdout).providers.find((entry: { provider: string }) => entry.provider === "azure");
  assert.equal(azure.baseUrl, "https://llm.example.com/v1?key=…ijkl");
});
