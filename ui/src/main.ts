import { ApiError, api, setCsrf } from "./api.js";
import { h, replace } from "./dom.js";
import { renderKeys } from "./pages/keys.js";
import { renderLogs } from "./pages/logs.js";
import { renderModels } from "./pages/models.js";
import { renderOverview } from "./pages/overview.js";
import { renderSessions, renderTranscript } from "./pages/sessions.js";

/** A page draws into `root` and returns how to stop what it keeps running (polls, charts). */
export type Page = (root: HTMLElement, param: string | undefined) => (() => void) | undefined;

const PAGES: Array<{ path: string; title: string; render: Page }> = [
  { path: "overview", title: "Overview", render: renderOverview },
  { path: "models", title: "Models", render: renderModels },
  { path: "sessions", title: "Sessions", render: renderSessions },
  { path: "keys", title: "Keys", render: renderKeys },
  { path: "logs", title: "Logs", render: renderLogs },
];

const app = document.getElementById("app") as HTMLElement;
let stopPage: (() => void) | undefined;

function showLogin(message?: string): void {
  stopPage?.();
  stopPage = undefined;
  const error = h("p", { class: "error", role: "alert", id: "login-error" }, message ?? "");
  const input = h("input", {
    type: "password",
    name: "token",
    id: "token",
    autocomplete: "current-password",
    required: true,
    placeholder: "Gateway token",
  });
  // method=post: even if the script failed, a submit never puts the token in a URL.
  const form = h(
    "form",
    { id: "login", method: "post", action: "/ui/api/login", class: "card login" },
    h("h1", {}, "OpenClaw gateway"),
    h("p", { class: "muted" }, "Sign in with the gateway token (openclaw gateway token prints it)."),
    h("label", { for: "token" }, "Gateway token"),
    input,
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const session = await api<{ csrf: string }>("login", { method: "POST", body: { token: input.value } });
      input.value = "";
      setCsrf(session.csrf);
      if (!location.hash || location.hash === "#/") location.hash = "#/overview";
      route();
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  });
  replace(app, h("main", { class: "login-page" }, form));
  input.focus();
}

async function signOut(): Promise<void> {
  await api("logout", { method: "POST" }).catch(() => undefined);
  setCsrf(undefined);
  showLogin();
}

function route(): void {
  const [, path = "overview", param] = /^#\/([^/]*)\/?(.*)$/.exec(location.hash) ?? [];
  const page = PAGES.find((entry) => entry.path === path) ?? PAGES[0]!;
  stopPage?.();
  const content = h("section", { class: "content", id: `page-${page.path}` });
  const nav = h(
    "nav",
    { class: "sidebar" },
    h("div", { class: "brand" }, "OpenClaw"),
    ...PAGES.map((entry) => h("a", { href: `#/${entry.path}`, class: entry === page ? "active" : "" }, entry.title)),
    h("button", { type: "button", class: "link signout", id: "signout", onclick: () => void signOut() }, "Sign out"),
  );
  replace(app, h("div", { class: "layout" }, nav, content));
  const decoded = param ? decodeURIComponent(param) : undefined;
  stopPage = page.path === "sessions" && decoded ? renderTranscript(content, decoded) : page.render(content, decoded);
}

/** Any call answered 401 means the session is gone (expired, signed out, token changed): back to the form. */
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof ApiError && event.reason.status === 401) showLogin("Your session ended; sign in again.");
});
window.addEventListener("hashchange", () => {
  if (document.getElementById("login")) return;
  route();
});

api<{ csrf: string }>("session")
  .then((session) => {
    setCsrf(session.csrf);
    route();
  })
  .catch(() => showLogin());
