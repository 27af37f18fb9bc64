// The browser wallboard: /api/v1/wallboard read with the token, refreshed when the event
// stream (/api/v1/events, through the session cookie) says something happened, and every
// 2 s for the clocks. No framework, no build step; every text goes in through textContent.
"use strict";

(() => {
  const STORE = "cc_wallboard_token";
  const EVENTS = ["call.created", "call.answered", "queue.joined", "queue.left",
    "agent.offered", "agent.answered", "agent.status_changed", "agent.state_changed",
    "call.transferred", "call.ended", "gap"];
  const options = new URLSearchParams(location.search);
  const slTarget = Number(options.get("sl") || 80) / 100; // ?sl=90, or per queue ?sl.sales=90
  const abandonLimit = Number(options.get("abandon") || 5) / 100;
  const $ = (id) => document.getElementById(id);
  let token = null;
  let source = null;
  let last = null; // { board, fetchedAt }
  let queued = null;

  function takeToken() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const given = fragment.get("token");
    if (given) {
      sessionStorage.setItem(STORE, given);
      history.replaceState(null, "", location.pathname + location.search);
    }
    return given || sessionStorage.getItem(STORE);
  }

  function setStatus(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.className = "status " + (kind || "");
  }

  async function call(path, init) {
    const answer = await fetch(path, {
      ...init, cache: "no-store", credentials: "same-origin",
      headers: { Authorization: "Bearer " + token, Accept: "application/json" },
    });
    if (!answer.ok) {
      let detail = "HTTP " + answer.status;
      try { detail = (await answer.json()).detail || detail; } catch (e) { /* not JSON */ }
      const error = new Error(detail);
      error.status = answer.status;
      throw error;
    }
    return answer.json();
  }

  async function openSession() {
    const session = await call("session", { method: "POST" });
    setTimeout(() => openSession().catch(failed), session.expires_in * 500);
  }

  function listen() {
    if (source) source.close();
    source = new EventSource("../api/v1/events");
    source.onopen = () => { setStatus("live", "live"); soon(); };
    source.onerror = () => {
      setStatus("reconnecting", "lost");
      if (source.readyState === EventSource.CLOSED) { // refused: the cookie ran out
        openSession().then(listen).catch(failed);
      }
    };
    for (const type of EVENTS) source.addEventListener(type, soon);
  }

  function soon() {
    if (queued === null) queued = setTimeout(() => { queued = null; refresh(); }, 250);
  }

  async function refresh() {
    try {
      const board = await call("../api/v1/wallboard");
      last = { board, fetchedAt: Date.now() };
      render();
    } catch (error) {
      failed(error);
    }
  }

  function failed(error) {
    if (error.status === 401 || error.status === 403) {
      sessionStorage.removeItem(STORE);
      showLogin(error.message);
      return;
    }
    setStatus(error.message, "lost");
  }

  function level(value, ok, warn, higherIsBetter) {
    if (value === null || value === undefined) return "";
    if (higherIsBetter) return value >= ok ? "ok" : value >= warn ? "warn" : "bad";
    return value <= ok ? "ok" : value <= warn ? "warn" : "bad";
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : Math.round(value * 100) + "%";
  }

  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function figure(name, label, value, kind) {
    const box = element("div", "figure " + (kind || ""));
    box.dataset.figure = name;
    box.append(element("span", "value", value), element("span", "label", label));
    return box;
  }

  function queueTile(queue, elapsed) {
    const target = Number(options.get("sl." + queue.name) || slTarget * 100) / 100;
    const longest = queue.waiting ? queue.longest_wait_seconds + elapsed : 0;
    const t = queue.service_level_seconds;
    const kinds = {
      sl: level(queue.service_level, target, target - 0.1, true),
      wait: level(longest, t, 2 * t, false),
      abandon: level(queue.abandon_rate, abandonLimit, 2 * abandonLimit, false),
    };
    const worst = ["bad", "warn", "ok"].find((k) => Object.values(kinds).includes(k)) || "";
    const tile = element("article", "queue " + worst);
    tile.dataset.queue = queue.name;
    const figures = element("div", "figures");
    const sl = figure("sl", "SL " + t + "s (" + queue.sl_formula + ")",
      percent(queue.service_level), kinds.sl);
    sl.title = "SL = " + queue.service_level_formula;
    figures.append(
      figure("waiting", "waiting", String(queue.waiting), queue.waiting ? kinds.wait : "ok"),
      figure("longest", "longest wait", duration(longest), kinds.wait),
      sl,
      figure("free", "agents free", String(queue.agents.free), queue.agents.free ? "ok" : "warn"),
      figure("busy", "busy", String(queue.agents.busy)),
      figure("abandon", "abandoned", percent(queue.abandon_rate), kinds.abandon),
    );
    tile.append(element("h2", "", queue.name), figures);
    return tile;
  }

  function agentRow(agent, elapsed) {
    const row = element("tr", agent.status === "available" ? agent.state : agent.status);
    row.dataset.agent = agent.extension;
    const caller = [agent.caller_number, agent.caller_name].filter(Boolean).join(" ");
    for (const [name, text] of [["extension", agent.extension], ["name", agent.name],
      ["status", agent.status.replace("_", " ")], ["state", agent.state.replace("_", " ")],
      ["for", duration(agent.state_seconds + elapsed)], ["caller", caller]]) {
      row.append(element("td", name, text));
    }
    return row;
  }

  function render() {
    $("clock").textContent = new Date().toLocaleTimeString();
    if (!last) return;
    const { board, fetchedAt } = last;
    const elapsed = (Date.now() - fetchedAt) / 1000;
    $("queues").replaceChildren(...board.queues.map((q) => queueTile(q, elapsed)));
    $("agents").tBodies[0].replaceChildren(...board.agents
      .filter((a) => a.status !== "logged_out")
      .map((a) => agentRow(a, elapsed)));
    const formulas = new Map(board.queues.map((q) => [q.sl_formula, q.service_level_formula]));
    $("formula").textContent = "Last " + Math.round(board.window_seconds / 60) + " min. "
      + [...formulas].map(([name, text]) => "SL " + name + " = " + text).join("; ")
      + "; abandoned = " + board.abandon_rate_formula + " (short abandons: under each queue's "
      + "short_abandon_seconds).";
  }

  function showLogin(message) {
    if (source) source.close();
    $("board").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    setStatus("no token", "lost");
  }

  async function start() {
    token = takeToken();
    if (!token) { showLogin(""); return; }
    $("login").hidden = true;
    $("board").hidden = false;
    try {
      await openSession();
      await refresh();
      listen();
    } catch (error) {
      failed(error);
    }
  }

  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const given = $("token").value.trim();
    if (given) { sessionStorage.setItem(STORE, given); $("token").value = ""; start(); }
  });
  setInterval(render, 1000);
  setInterval(() => { if (token && !$("board").hidden) refresh(); }, 2000);
  start();
})();
