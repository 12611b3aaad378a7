import path from "node:path";
import type { ModelRuntime } from "../../models/model-runtime.js";
import type { AttestationReport, CatalogModel, ModelAttestor } from "../../providers/provider.js";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.js";
import { recordAttestationVerdict, toStoredVerdict } from "../../store/attestation-verdicts.js";
import { loadCliContext } from "../context.js";
import { printJson } from "../output.js";

export interface TeeVerifyOptions {
  json?: boolean;
}

interface Target {
  provider: string;
  /** The model ref the verdict is stored under, when the input named a catalog model. */
  ref?: string;
  model: Pick<CatalogModel, "id" | "upstreamId">;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: report texts quote upstream answers; a terminal gets them inert
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const clean = (text: string) => text.replace(CONTROL, " ");

const attestable = (runtime: ModelRuntime) =>
  [...runtime.providerIds].filter((id) => runtime.provider(id).definition.attestation !== undefined);

/** A model ref or alias; else a catalog model (or deployment id) of a provider that attests; else a deployment there. */
async function resolveTarget(runtime: ModelRuntime, input: string): Promise<Target> {
  const providers = attestable(runtime);
  let ref: ReturnType<ModelRuntime["resolveRef"]> | undefined;
  try {
    ref = runtime.resolveRef(input);
  } catch {
    ref = undefined;
  }
  if (ref) {
    if (!providers.includes(ref.provider)) {
      throw new InvalidRequestError(
        `${ref.provider} models have no hardware attestation (providers that have one: ${providers.join(", ")})`,
        {
          param: "model",
        },
      );
    }
    const model = await runtime.findModel(ref);
    return { provider: ref.provider, ref: `${ref.provider}/${ref.baseId}`, model: model ?? { id: ref.baseId } };
  }
  const loaded = await runtime.catalog("auto", providers);
  for (const catalog of loaded.providers.values()) {
    const model = catalog.all.find((entry) => entry.id === input || entry.upstreamId === input);
    if (model) return { provider: catalog.provider, ref: `${catalog.provider}/${model.id}`, model };
  }
  if (providers.length === 1 && /^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/.test(input)) return { provider: providers[0]!, model: { id: input } };
  throw new NotFoundError(`unknown model or deployment ${JSON.stringify(input)}`, { code: "model_not_found", param: "model" });
}

function reportLines(label: string, report: AttestationReport): string[] {
  const when = new Date(report.verifiedAt).toISOString();
  const passed = report.instances.filter((instance) => instance.ok).length;
  const verdict = report.ok ? `attested (${passed} of ${report.instances.length} instances)` : "NOT attested";
  const lines = [`TEE attestation of ${label} (${clean(report.target)}) at ${when}: ${verdict}`];
  if (report.error) lines.push(`  error: ${clean(report.error.message)}`);
  for (const instance of report.instances) {
    const facts = [
      instance.quoteSha256 ? `quote sha256 ${instance.quoteSha256}` : undefined,
      instance.tcbStatus ? `TCB ${clean(instance.tcbStatus)}` : undefined,
      instance.measurement ? `measurement ${clean(instance.measurement)}` : undefined,
    ].filter(Boolean);
    lines.push(
      `instance ${clean(instance.instanceId)}: ${instance.ok ? "passed" : "FAILED"}${facts.length ? ` (${facts.join(", ")})` : ""}`,
    );
    for (const check of instance.checks) {
      lines.push(`  ${check.ok ? "pass" : "FAIL"}  ${check.name}: expected ${clean(check.expected)}; seen ${clean(check.seen)}`);
      if (check.detail && !check.ok) lines.push(`        ${clean(check.detail)}`);
    }
  }
  if (!report.ok && report.failure) lines.push(clean(report.failure));
  return lines;
}

/** `openclaw tee verify <model|chute>`: attest now (no cache), print every check, exit 1 unless an instance passed. */
export async function runTeeVerify(input: string, options: TeeVerifyOptions): Promise<void> {
  const { runtime, paths } = await loadCliContext();
  const target = await resolveTarget(runtime, input);
  const provider = runtime.provider(target.provider);
  if (!runtime.credential(target.provider)) {
    throw new InvalidRequestError(`no ${provider.definition.label} credential: run \`openclaw onboard\` first`, {
      code: "credential_missing",
    });
  }
  const attestor: ModelAttestor = await provider.definition.attestation!.create({
    config: runtime.config.models?.providers?.[target.provider] ?? {},
    configDir: path.dirname(paths.configPath),
    credential: async () => {
      const credential = await runtime.freshCredential(target.provider);
      if (!credential) throw new Error("the credential is gone");
      return credential.secret;
    },
  });
  const report = await attestor.verify(target.model, { fresh: true });
  await runtime.settleRefreshes();
  if (target.ref) {
    await recordAttestationVerdict(paths, target.ref, toStoredVerdict(report)).catch((error: Error) =>
      process.stderr.write(`openclaw: warning: could not record the verdict: ${error.message}\n`),
    );
  }
  if (options.json) printJson({ ...(target.ref ? { model: target.ref } : {}), provider: target.provider, ...report });
  else process.stdout.write(`${reportLines(target.ref ?? `${target.provider} ${target.model.id}`, report).join("\n")}\n`);
  if (!report.ok) process.exitCode = 1;
}
