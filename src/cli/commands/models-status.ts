import { oauthState } from "../../auth/oauth/profile-state.js";
import { redactUrlCredentials } from "../../config/secrets.js";
import { parseModelRef } from "../../models/model-ref.js";
import { providerDefinition } from "../../providers/registry.js";
import { InvalidRequestError } from "../../shared/errors.js";
import { readAttestationVerdicts } from "../../store/attestation-verdicts.js";
import { loadCliContext } from "../context.js";
import { formatAge } from "../format.js";
import { printJson } from "../output.js";

export interface ModelsStatusOptions {
  json?: boolean;
  check?: boolean;
  /** A live call per provider (models-probe.ts). */
  probe?: boolean;
  /** Per provider, in ms. */
  probeTimeout?: string;
}

function probeTimeoutMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 100 || value > 300_000) {
    throw new InvalidRequestError(
      `--probe-timeout must be a whole number of milliseconds from 100 to 300000, got ${JSON.stringify(text)}`,
      {
        param: "probe-timeout",
      },
    );
  }
  return value;
}

/** Where things stand: default model, credentials, catalogs; with --probe, a live call per provider. */
export async function runModelsStatus(options: ModelsStatusOptions): Promise<void> {
  const timeoutMs = probeTimeoutMs(options.probeTimeout);
  const { runtime, paths, store } = await loadCliContext();
  const stored = await store.read();
  const providerIds = runtime.activeProviderIds();
  const loaded = await runtime.catalog("offline", providerIds);
  const defaultModel = runtime.defaultModel();
  const defaultRef = defaultModel
    ? (parseModelRef(runtime.aliases.targets.get(defaultModel) ?? defaultModel, runtime.providerIds) ?? null)
    : null;
  const now = Date.now();
  const verdicts = await readAttestationVerdicts(paths);

  /** TEE models as declared by the provider, and how many of them passed their last attestation. */
  const teeSummary = (models: { provider: string; id: string; confidentialCompute?: boolean }[]) => {
    const declared = models.filter((model) => model.confidentialCompute);
    if (declared.length === 0) return undefined;
    const seen = declared.flatMap((model) => verdicts.get(`${model.provider}/${model.id}`) ?? []);
    const last = Math.max(0, ...seen.map((verdict) => verdict.verifiedAt));
    return {
      declared: declared.length,
      attested: seen.filter((verdict) => verdict.ok).length,
      refused: seen.filter((verdict) => !verdict.ok).length,
      ...(last ? { lastVerifiedAt: new Date(last).toISOString() } : {}),
    };
  };

  const providers = providerIds.map((id) => {
    const credential = runtime.credential(id);
    const catalog = loaded.providers.get(id);
    const tee = teeSummary(catalog?.models ?? []);
    return {
      provider: id,
      configured: runtime.config.models?.providers?.[id] !== undefined,
      // After `${VAR}` substitution a URL may hold credentials: show it without them.
      baseUrl: redactUrlCredentials(runtime.provider(id).baseUrl) ?? runtime.provider(id).baseUrl,
      teeOnly: runtime.config.models?.providers?.[id]?.teeOnly === true,
      credential: credential
        ? { source: credential.source, origin: credential.origin, mode: credential.mode, redacted: credential.redacted }
        : null,
      oauth: Object.entries(stored.profiles).flatMap(([profileId, profile]) =>
        profile.type === "oauth" && profile.provider === id
          ? [
              {
                profileId,
                account: profile.account?.username ?? profile.account?.email ?? profile.account?.id ?? null,
                expires: profile.expires ? new Date(profile.expires).toISOString() : null,
                autoRefresh: Boolean(profile.refresh) && !profile.needsReauth,
                state: oauthState(profile, now),
              },
            ]
          : [],
      ),
      catalog: {
        source: catalog?.source === "builtin" ? "built-in" : (catalog?.source ?? "built-in"),
        models: catalog?.models.length ?? 0,
        ...(catalog?.fetchedAt ? { fetchedAt: new Date(catalog.fetchedAt).toISOString(), stale: catalog.stale === true } : {}),
      },
      ...(tee ? { tee } : {}),
    };
  });

  const problems: string[] = [];
  const warnings: string[] = [];
  for (const provider of providers) {
    // The provider's own sign-in choice (Chutes: `chutes`), not a name written here.
    const signIn = providerDefinition(provider.provider).onboarding?.authChoices.find((choice) => choice.kind === "oauth")?.id;
    const again = signIn ? `run \`openclaw onboard --auth-choice ${signIn}\`` : "sign in again";
    for (const profile of provider.oauth) {
      if (profile.state === "needs sign-in" || profile.state === "expired") {
        problems.push(`${profile.profileId} ${profile.state === "expired" ? "has expired" : "needs a new sign-in"}: ${again}`);
      } else if (profile.state === "expiring") warnings.push(`${profile.profileId} expires ${profile.expires}: sign in again before then`);
    }
  }
  if (!defaultModel) problems.push("no default model: run `openclaw onboard` or set agents.defaults.model.primary");
  else if (!defaultRef) problems.push(`the default model ${defaultModel} is not a provider/model ref or a known alias`);
  else if (!runtime.credential(defaultRef.provider) && runtime.provider(defaultRef.provider).definition.requiresCredential) {
    problems.push(
      `the default model's provider ${defaultRef.provider} has no credential: run \`openclaw models auth paste-token --provider ${defaultRef.provider}\``,
    );
  }

  const probes = options.probe
    ? await (await import("./models-probe.js")).probeProviders(
        runtime,
        providers.filter((provider) => provider.configured || provider.credential).map((provider) => provider.provider),
        timeoutMs,
      )
    : undefined;
  for (const probe of probes ?? []) {
    if (probe.status !== "ok") problems.push(`probe of ${probe.provider}: ${probe.detail ?? probe.status}`);
  }

  if (options.json) {
    printJson({
      ...(probes ? { probe: probes } : {}),
      configPath: paths.configPath,
      defaultModel: defaultModel ?? null,
      resolvedDefault: defaultRef?.ref ?? null,
      fallbacks: runtime.fallbacks(),
      aliases: Object.fromEntries(runtime.aliases.targets),
      providers,
      ok: problems.length === 0,
      problems,
      warnings,
    });
  } else {
    const lines = [
      `Config:        ${paths.configPath}`,
      `Default model: ${defaultModel ?? "(none)"}${defaultRef && defaultRef.ref !== defaultModel ? ` → ${defaultRef.ref}` : ""}`,
      `Fallbacks:     ${runtime.fallbacks().join(", ") || "(none)"}`,
      `Aliases:       ${[...runtime.aliases.targets].map(([name, ref]) => `${name} → ${ref}`).join("\n               ") || "(none)"}`,
      "Providers:",
    ];
    for (const provider of providers) {
      const credential = provider.credential
        ? `${provider.credential.source} ${provider.credential.origin} (${provider.credential.redacted})`
        : "no credential";
      const catalog = loaded.providers.get(provider.provider);
      const age = catalog?.fetchedAt ? `, ${formatAge(now - catalog.fetchedAt)}${catalog.stale ? " (stale)" : ""}` : "";
      lines.push(
        `  ${provider.provider}: ${credential}; catalog ${provider.catalog.source}${age}, ${provider.catalog.models} models${provider.teeOnly ? "; teeOnly" : ""}`,
      );
      if (provider.tee) {
        const { declared, attested, refused, lastVerifiedAt } = provider.tee;
        lines.push(
          `    TEE models: ${declared} declared; ${attested} attested, ${refused} refused${lastVerifiedAt ? ` (last verified ${lastVerifiedAt})` : ""}`,
        );
      }
      for (const profile of provider.oauth) {
        const expiry = profile.expires
          ? `access token until ${profile.expires}${profile.autoRefresh ? " (refreshed automatically)" : ""}`
          : "no expiry";
        lines.push(`    ${profile.profileId}: signed in as ${profile.account ?? "(unknown)"}; ${expiry}; ${profile.state}`);
      }
    }
    if (probes) {
      const { formatProbe } = await import("./models-probe.js");
      lines.push(probes.length ? "Probe (live):" : "Probe: no provider is set up (run `openclaw onboard`)");
      for (const probe of probes) lines.push(formatProbe(probe));
    }
    for (const problem of problems) lines.push(`Problem: ${problem}`);
    for (const warning of warnings) lines.push(`Warning: ${warning}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  // --check: 1 = unusable (no credential, expired, needs sign-in), 2 = expiring within 24 h.
  if (options.check) process.exitCode = problems.length > 0 ? 1 : warnings.length > 0 ? 2 : 0;
  // A live check that failed is a failure, with or without --check (cron jobs read the exit code).
  else if (probes?.some((probe) => probe.status !== "ok")) process.exitCode = 1;
}
