import type { ProviderOnboarding } from "../provider.js";

/** Hugging Face at `openclaw onboard`: an access token; each model also offered on its cheapest and fastest backend. */
export const huggingfaceOnboarding: ProviderOnboarding = {
  authChoices: [
    {
      id: "huggingface-api-key",
      label: "Hugging Face: access token",
      kind: "api-key",
      flag: "--huggingface-api-key",
      option: "huggingfaceApiKey",
      envVars: ["HF_TOKEN", "HUGGINGFACE_HUB_TOKEN"],
      prompt: "Hugging Face token (hf_…)",
    },
  ],
  // The router picks the backend by price or speed: offered as their own, provider-locked choices.
  modelVariants: (ref, model) => [
    { value: `${ref}:cheapest`, label: `${model.name}, cheapest backend`, hint: "provider locked" },
    { value: `${ref}:fastest`, label: `${model.name}, fastest backend`, hint: "provider locked" },
  ],
};
