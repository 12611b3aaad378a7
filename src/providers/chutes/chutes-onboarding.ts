import type { ProviderOnboarding } from "../provider.js";

/**
 * Chutes at `openclaw onboard`: Sign in with Chutes or an API key; with `teeOnly` only TEE models
 * are offered as the default; and when the default is a TEE model, end-to-end encryption to
 * attested enclaves (`e2ee`) is offered. TEE here is only what the catalog declares
 * (`confidential_compute`): the attestation itself happens on the first request.
 */
export const chutesOnboarding: ProviderOnboarding = {
  authChoices: [
    { id: "chutes", label: "Chutes: Sign in with Chutes (OAuth)", hint: "opens your browser", kind: "oauth" },
    {
      id: "chutes-api-key",
      label: "Chutes: API key",
      kind: "api-key",
      flag: "--chutes-api-key",
      option: "chutesApiKey",
      envVars: ["CHUTES_API_KEY"],
      prompt: "Chutes API key (cpk_…)",
    },
  ],
  offeredModels: (models, config) => (config.teeOnly ? models.filter((model) => model.confidentialCompute === true) : models),
  offers: [
    {
      key: "e2ee",
      flag: "e2ee",
      option: "e2ee",
      question: "Encrypt prompts end to end to attested enclaves (E2EE)?",
      note:
        "Each TEE instance's Intel TDX quote and NVIDIA GPU evidence are verified before a prompt is encrypted to its key; " +
        "Chutes' relay then sees only ciphertext. There is no plaintext fallback: if no instance passes attestation, " +
        "requests fail. About 10 ms of CPU per request; Chutes allows 10 nonce fetches a minute per chute.",
      // Off unless asked for, as in config: a failing attestation service would otherwise fail every request.
      initial: false,
      unavailable: (model, modelId) =>
        model === undefined
          ? `${modelId} is not in the Chutes catalog, so it cannot be confirmed to be a TEE model`
          : model.confidentialCompute === true
            ? undefined
            : `${modelId} is not a TEE (confidential compute) model`,
    },
  ],
};
