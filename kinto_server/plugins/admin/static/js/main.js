// The admin page's start: who is signed in, then the page of the location.

import { Api, paths } from "./api.js";
import { h, replace } from "./dom.js";
import { bucketPage, collectionPage, failurePage, groupPage, homePage, recordPage } from "./pages.js";
import { parse } from "./router.js";
import * as session from "./session.js";
import { openidCallback, showSignIn } from "./signin.js";

const base = new URL("../", location.href).href; // .../v1/
const main = document.getElementById("main");
const sidebar = document.getElementById("sidebar");
let context = null;
let leaving = [];
let rendering = 0;

function setLive(on) {
  document.getElementById("live").hidden = !on;
}

async function refreshSidebar() {
  try {
    const { items, nextPage } = await context.api.page(paths.buckets(), new URLSearchParams({ _limit: "100", _sort: "id" }));
    replace(
      sidebar,
      h("h2", null, "Buckets"),
      h("ul", null, items.map((bucket) => h("li", null, h("a", { href: `#/buckets/${encodeURIComponent(bucket.id)}` }, bucket.id)))),
      nextPage ? h("a", { href: "#/" }, "All buckets…") : null,
    );
  } catch {
    replace(sidebar);
  }
}

function route(parts) {
  const [first, bid, second, id, third, rid, fourth] = parts;
  if (!first) return (c, m) => homePage(c, m);
  if (first !== "buckets" || !bid) return null;
  if (!second || !id) return (c, m) => bucketPage(c, m, bid, second === "collections" ? undefined : second);
  if (second === "collections" && id) {
    if (third === "records" && rid) return (c, m) => recordPage(c, m, bid, id, rid, fourth);
    return (c, m) => collectionPage(c, m, bid, id, third);
  }
  if (second === "groups" && id) return (c, m) => groupPage(c, m, bid, id, third);
  return null;
}

async function render() {
  const token = ++rendering;
  for (const leave of leaving) leave();
  leaving = [];
  const location_ = parse(location.hash);
  context.route = location_;
  const page = route(location_.parts);
  if (!page) {
    replace(main, h("p", { class: "error" }, "No such page. "), h("a", { href: "#/" }, "Back to the buckets"));
    return;
  }
  replace(main, h("p", { class: "muted" }, "Loading…"));
  const view = h("div", { class: "page" });
  try {
    await page({ ...context, onLeave: (leave) => (token === rendering ? leaving.push(leave) : leave()) }, view);
    if (token === rendering) replace(main, view);
  } catch (error) {
    if (token === rendering) failurePage(main, error);
  }
}

function signOut() {
  session.clear();
  location.hash = "#/";
  location.reload();
}

async function start() {
  const anonymous = new Api(base, null);
  const root = (await anonymous.get("/")).json;
  document.getElementById("server").textContent = `${root.project_name} ${root.project_version}`;
  const callback = openidCallback(location.hash, root);
  if (callback && callback.session) {
    session.save(callback.session, callback.remember);
    history.replaceState(null, "", location.pathname + "#/");
  }
  const stored = session.load();
  const signIn = (message) => showSignIn(main, base, root, () => location.reload(), message);
  if (!stored) return signIn(callback && callback.error);
  const api = new Api(base, stored.authorization);
  const me = (await api.get("/").catch(() => ({ json: {} }))).json;
  if (!me.user) {
    session.clear();
    return signIn("Your session has ended: sign in again.");
  }
  api.onUnauthorized = () => {
    session.clear();
    signIn("Your session has ended: sign in again.");
  };
  document.getElementById("whoami").textContent = me.user.id;
  const signout = document.getElementById("signout");
  signout.hidden = false;
  signout.addEventListener("click", signOut);
  context = { api, root: me, user: me.user, setLive, refreshSidebar, refresh: () => render() };
  refreshSidebar();
  window.addEventListener("hashchange", render);
  await render();
}

start().catch((error) => failurePage(main, error));
