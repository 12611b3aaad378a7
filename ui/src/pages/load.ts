import { ApiError } from "../api.js";
import { h, replace } from "../dom.js";

/** Draw what `load` returns into `target`, or its error; a 401 is passed on (the login form takes over). */
export async function loadInto<T>(target: HTMLElement, load: () => Promise<T>, draw: (value: T) => Node): Promise<void> {
  try {
    replace(target, draw(await load()));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    replace(target, h("p", { class: "error" }, error instanceof Error ? error.message : String(error)));
  }
}
