import type { ModelRef } from "../../models/model-ref.js";
import type { ModelRuntime } from "../../models/model-runtime.js";

/** The label of a model the catalog does not know: clients cannot mint label values. */
export const OTHER_MODEL = "other";
/** Refs remembered (known and unknown); past it, lookups still work, just without the memo. */
const MAX_REMEMBERED = 4096;

/**
 * Model label values bounded by the catalog: a known model is `provider/id` (routing suffixes
 * dropped), anything else "other". The first sight of a ref asks the catalog (a promise); after
 * that it is one Map lookup. A new runtime (config reload) starts over.
 */
export class ModelLabels {
  private runtime: ModelRuntime | undefined;
  private readonly known = new Map<string, string>();

  constructor(private readonly current: () => ModelRuntime) {}

  /** Calls `use` with the label: at once when the ref was seen before, else once the catalog answered. */
  with(ref: ModelRef | null, use: (label: string) => void): void {
    if (!ref) {
      use("none");
      return;
    }
    const runtime = this.current();
    if (runtime !== this.runtime) {
      this.runtime = runtime;
      this.known.clear();
    }
    const hit = this.known.get(ref.ref);
    if (hit !== undefined) {
      use(hit);
      return;
    }
    runtime.findModel(ref).then(
      (model) => {
        const label = model ? `${model.provider}/${model.id}` : OTHER_MODEL;
        if (this.known.size < MAX_REMEMBERED) this.known.set(ref.ref, label);
        use(label);
      },
      () => use(OTHER_MODEL),
    );
  }
}
