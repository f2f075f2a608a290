// The sign-in screen: Basic Auth or accounts (a user name and a password),
// or an OpenID Connect provider, as the server's capabilities say.

import { Api } from "./api.js";
import { h, replace } from "./dom.js";
import * as session from "./session.js";

const CALLBACK = "#/auth/openid/";

export function showSignIn(main, base, root, onSignedIn, message) {
  const capabilities = root.capabilities || {};
  const providers = (capabilities.openid && capabilities.openid.providers) || [];
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const remember = h("input", { id: "remember", type: "checkbox" });
  // With accounts, a wrong password could still pass as Basic Auth (the
  // server's policies are tried in turn): the account's id is checked.
  const method = capabilities.accounts
    ? h(
        "select",
        { id: "method" },
        h("option", { value: "accounts" }, "Account of this server"),
        h("option", { value: "basicauth" }, "Basic Auth"),
      )
    : null;
  const chosen = () => (method ? method.value : "basicauth");

  async function submit(event) {
    event.preventDefault();
    const authorization = session.basic(username.value, password.value);
    try {
      const { json } = await new Api(base, authorization).get("/");
      const expected = chosen() === "accounts" ? `account:${username.value}` : null;
      if (!json.user || (expected && json.user.id !== expected)) throw Object.assign(new Error(), { status: 401 });
      session.save({ method: chosen(), authorization, user: json.user.id }, remember.checked);
      onSignedIn();
    } catch (failure) {
      error.textContent =
        failure.status === 401 ? "Wrong user name or password." : failure.message || String(failure);
    }
  }

  const form = h(
    "form",
    { class: "signin", onsubmit: submit },
    h("h1", null, "Sign in"),
    h("p", { class: "muted" }, root.project_name, " ", root.project_version, " — ", root.url),
    method ? [h("label", { for: "method" }, "Sign in with"), method] : null,
    h("p", { class: "muted" }, "With Basic Auth, the server derives your user id from the name and the password."),
    h("label", { for: "username" }, "User name"),
    username,
    h("label", { for: "password" }, "Password"),
    password,
    h("label", { class: "inline" }, remember, " Keep me signed in on this device"),
    h("button", { type: "submit" }, "Sign in"),
    error,
    providers.length ? h("h2", null, "Or") : null,
    providers.map((provider) =>
      h(
        "button",
        { type: "button", class: "secondary", onclick: () => openidLogin(base, provider, remember.checked) },
        `Sign in with ${provider.name}`,
      ),
    ),
  );
  replace(main, form);
  username.focus();
}

function openidLogin(base, provider, remember) {
  sessionStorage.setItem("kinto-admin-remember", remember ? "1" : "");
  const callback = location.href.split("#")[0] + CALLBACK + encodeURIComponent(provider.name) + "/";
  const query = new URLSearchParams({ callback, scope: "openid email" });
  location.href = base + provider.auth_path.replace(/^\//, "") + "?" + query;
}

/** The session given by the OpenID login's redirection, if this is one:
 * the callback URL followed by the base64 of the provider's token answer. */
export function openidCallback(hash, root) {
  if (!hash.startsWith(CALLBACK)) return null;
  const [name, encoded = ""] = hash.slice(CALLBACK.length).split(/\/(.*)/s);
  const providers = (root.capabilities.openid && root.capabilities.openid.providers) || [];
  const provider = providers.find((found) => found.name === decodeURIComponent(name));
  if (!provider) return null;
  let tokens;
  try {
    tokens = JSON.parse(atob(decodeURIComponent(encoded)));
  } catch {
    return { error: "The provider's answer could not be read." };
  }
  if (!tokens.access_token) return { error: tokens.error_description || tokens.error || "No access token." };
  const remember = sessionStorage.getItem("kinto-admin-remember") === "1";
  sessionStorage.removeItem("kinto-admin-remember");
  const authorization = `${provider.header_type || "Bearer"} ${tokens.access_token}`;
  return { session: { method: "openid", provider: provider.name, authorization }, remember };
}
