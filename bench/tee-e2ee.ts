import { createTestState, runCli, writeConfig } from "../test/helpers/cli.js";
import { STACK_MODEL, startFakeTeeStack } from "../test/helpers/fake-chutes-tee/tee-stack.js";
import { median, settledCpuMs, stop } from "./processes.js";
import { AUTH, startGateway, TOKEN } from "./setup.js";

/**
 * The E2EE path beside the plain one, through the real gateway to the same fake Chutes TEE
 * (attestation cached after the first request, as in steady use): per request, the gateway's
 * added CPU (ML-KEM encapsulation, a response key pair, gzip, ChaCha20-Poly1305, decryption)
 * and the latency a client sees. The fake instance's own crypto runs in this process, so the
 * latency includes it, as a real enclave's would; the CPU figure is the gateway's alone.
 */
export async function benchTeeE2ee(requests: number): Promise<void> {
  const stack = await startFakeTeeStack({ plainAnswers: true });
  const rows: string[] = [];
  try {
    for (const e2ee of [false, true]) {
      const state = await createTestState({ OPENCLAW_GATEWAY_TOKEN: TOKEN, CHUTES_API_KEY: stack.fleet.credential });
      await writeConfig(state, {
        models: { providers: { chutes: stack.providerConfig({ e2ee }) } },
        agents: { defaults: { model: { primary: `chutes/${STACK_MODEL}` } } },
        gateway: { http: { endpoints: { chatCompletions: { enabled: true } } } },
      });
      await runCli(state, ["models", "list"]);
      const gateway = await startGateway(state);
      try {
        for (const stream of [false, true]) {
          const once = async () => {
            const started = performance.now();
            const response = await fetch(`${gateway.url}/v1/chat/completions`, {
              method: "POST",
              headers: { ...AUTH, "content-type": "application/json" },
              body: JSON.stringify({ model: `chutes/${STACK_MODEL}`, messages: [{ role: "user", content: "hello" }], stream }),
            });
            await response.text();
            if (response.status !== 200) throw new Error(`bench request failed: ${response.status}`);
            return performance.now() - started;
          };
          for (let i = 0; i < 20; i++) await once(); // warm-up: attestation, JIT, connections
          const before = await settledCpuMs(gateway.pid);
          const latencies: number[] = [];
          for (let i = 0; i < requests; i++) latencies.push(await once());
          const cpu = ((await settledCpuMs(gateway.pid)) - before) / requests;
          rows.push(
            `    ${(e2ee ? "E2EE (attested)" : "plain").padEnd(16)} ${(stream ? "streamed" : "JSON").padEnd(9)} p50 ${median(latencies).toFixed(2).padStart(6)} ms   gateway CPU/req ${(cpu * 1000).toFixed(0).padStart(5)} µs`,
          );
        }
      } finally {
        await stop(gateway.child);
        await state.cleanup();
      }
    }
  } finally {
    await stack.close();
  }
  process.stdout.write(
    `\nChutes TEE: E2EE beside plain, one connection, ${requests} sequential requests each (same fake; gateway CPU from /proc, 10 ms ticks)\n${rows.join("\n")}\n`,
  );
}
