// The queue page: a thin client over Baton's JSON API. Every action is an HTTP
// call made with the caller's token; the server (and the claim workflow behind
// it) decides what is allowed, and this page shows its answer.
"use strict";

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("baton-token") || "";
let me = null;
let page = 1;

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const msg = (data.error && data.error.message) || res.statusText;
    throw new Error(msg);
  }
  return data;
}

// apiPage reads one page of a paged list: the body, the total the server counts
// (X-Total-Count) and the next page's path (Link rel="next"), if any.
async function apiPage(path) {
  const res = await fetch(path, { headers: { Authorization: "Bearer " + token } });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
  const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get("Link") || "");
  return { data, total: Number(res.headers.get("X-Total-Count") || 0), next: next ? next[1] : "" };
}

function showError(err) { $("error").textContent = err ? String(err.message || err) : ""; }

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text || "–";
  if (cls) td.className = cls;
  return td;
}

function button(label, cls, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = cls;
  b.addEventListener("click", () => onClick().catch(showError));
  return b;
}

async function signIn() {
  me = await api("GET", "/api/me");
  sessionStorage.setItem("baton-token", token);
  $("me").textContent = "Signed in as " + me.name + " (" + me.userId + ")";
  $("login-form").hidden = true;
  $("logout").hidden = false;
  for (const id of ["mywork-section", "queue-section", "me-section"]) $(id).hidden = false;
  $("team-section").hidden = !me.admin;
  await refresh();
}

// showMe shows the caller's status and open work against their limit.
async function showMe() {
  const w = await api("GET", "/api/users/me");
  $("my-status").textContent = w.status;
  $("my-status").className = "status-" + w.status;
  $("status-select").value = w.status;
  $("my-open").textContent = w.open + " open" + (w.capacity.total ? " of " + w.capacity.total : "");
}

// showTeam is the admins' view: each person's status, open stages and limit,
// with a bar of their open work, and the backlog by queue and stage.
async function showTeam() {
  const t = await api("GET", "/api/team?limit=50");
  const body = $("team").tBodies[0];
  body.replaceChildren();
  const most = Math.max(1, ...t.people.map((p) => Math.max(p.open, p.limit || 0)));
  for (const p of t.people) {
    const tr = document.createElement("tr");
    tr.dataset.user = p.id;
    const bar = document.createElement("div");
    bar.className = "bar" + (p.limit && p.open >= p.limit ? " full" : "");
    bar.style.width = Math.round((100 * p.open) / most) + "%";
    const chart = document.createElement("td");
    chart.append(bar);
    tr.append(cell(p.name + " (" + p.id + ")"), cell(p.status, "status-" + p.status), cell(String(p.open)),
      cell(p.limit ? String(p.limit) : "no limit"), chart);
    body.append(tr);
  }
  const backlog = $("backlog").tBodies[0];
  backlog.replaceChildren();
  for (const b of t.backlog) {
    const tr = document.createElement("tr");
    tr.append(cell(b.queue), cell(b.stage), cell(String(b.count)), cell(Math.round(b.oldestSeconds) + " s"));
    backlog.append(tr);
  }
}

const outcomes = ["approval", "goodwill", "repudiation", "no_claim"];

// completeControls complete the caller's stage; at review they ask for the outcome
// from the row's select.
function completeControls(c) {
  const parts = [];
  let pick = null;
  if (c.stage === "review") {
    pick = document.createElement("select");
    pick.className = "outcome";
    for (const o of outcomes) pick.append(new Option(o, o));
    parts.push(pick);
  }
  parts.push(button("Complete", "complete primary", () => act(c.claimId, "complete", pick ? { outcome: pick.value } : {})));
  return parts;
}

function queueQuery() {
  const q = new URLSearchParams();
  for (const [key, id] of [["queue", "f-queue"], ["stage", "f-stage"], ["status", "f-status"], ["since", "f-since"]]) {
    if ($(id).value) q.set(key, $(id).value);
  }
  q.set("page", String(page));
  return q.toString();
}

async function refresh() {
  showError(null);
  await showMe();
  if (me.admin) await showTeam();
  const data = await api("GET", "/api/queue?" + queueQuery());
  const queue = $("queue").tBodies[0];
  const mine = $("mywork").tBodies[0];
  queue.replaceChildren();
  mine.replaceChildren();
  for (const c of data.items) {
    const tr = document.createElement("tr");
    tr.dataset.claim = c.claimId;
    tr.append(cell(c.claimId), cell(c.stage), cell(c.status, "status-" + c.status), cell(c.queue), cell(c.assignee), cell(new Date(c.started).toLocaleString()));
    const actions = document.createElement("td");
    if (c.status === "unassigned") actions.append(button("Assign to me", "claim primary", () => act(c.claimId, "claim", {})));
    actions.append(button("Timeline", "timeline", () => showTimeline(c.claimId)));
    tr.append(actions);
    queue.append(tr);
    if (c.assignee === me.userId) {
      const row = document.createElement("tr");
      row.dataset.claim = c.claimId;
      row.append(cell(c.claimId), cell(c.stage), cell(new Date(c.started).toLocaleString()));
      const a = document.createElement("td");
      a.append(
        ...completeControls(c),
        button("Reassign", "reassign", async () => openReassign(c.claimId)),
        button("Unassign", "unassign", () => act(c.claimId, "unassign", { comment: prompt("Why return it to the queue?") || "" })),
        button("Timeline", "timeline", () => showTimeline(c.claimId)),
      );
      row.append(a);
      mine.append(row);
    }
  }
  $("more").hidden = !data.more;
}

async function act(claimId, action, body) {
  showError(null);
  await api("POST", "/api/claims/" + encodeURIComponent(claimId) + "/" + action, body);
  await refresh();
  await showTimeline(claimId);
}

function openReassign(claimId) {
  $("reassign-section").hidden = false;
  $("reassign-claim").textContent = claimId;
  $("reassign-form").dataset.claim = claimId;
  $("reassign-user").focus();
}

// showCandidates lists who may take the claim's current stage, a page at a time:
// the stage decision's candidates as the ledger recorded them (thousands, in a
// large organisation), read from the assignment-options endpoint.
let candNext = "";
async function showCandidates(claimId, more) {
  const list = $("candidates");
  let path = candNext;
  if (!more) {
    list.replaceChildren();
    const state = await api("GET", "/api/claims/" + encodeURIComponent(claimId));
    $("cand-stage").textContent = state.stage;
    if (!state.explain) {
      $("cand-count").textContent = "nobody: the stage is not decided";
      $("cand-more").hidden = true;
      return;
    }
    path = "/api/claims/" + encodeURIComponent(claimId) + "/assignment-options/" + state.stage + "?limit=20";
  }
  const page = await apiPage(path);
  for (const u of page.data.users) {
    const li = document.createElement("li");
    li.textContent = u.name + " (" + u.userId + ")" + (page.data.assignedTo && page.data.assignedTo.userId === u.userId ? " · assigned" : "");
    list.append(li);
  }
  $("cand-count").textContent = page.total + " eligible";
  candNext = page.next;
  $("cand-more").hidden = !candNext;
}

async function showTimeline(claimId) {
  await showCandidates(claimId, false);
  const state = await api("GET", "/api/claims/" + encodeURIComponent(claimId));
  const data = $("claim-data");
  data.replaceChildren();
  for (const [k, v] of Object.entries(state.data || {})) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    data.append(dt, dd);
  }
  const events = await api("GET", "/api/claims/" + encodeURIComponent(claimId) + "/timeline");
  $("timeline-section").hidden = false;
  $("timeline-claim").textContent = claimId;
  const list = $("timeline");
  list.replaceChildren();
  for (const e of events.events) {
    const li = document.createElement("li");
    li.dataset.kind = e.kind;
    const who = e.subject ? " → " + e.subject : "";
    const by = e.actor ? " by " + e.actor : "";
    li.textContent = new Date(e.at).toLocaleString() + " · " + e.stage + " · " + e.kind + who + by + (e.reason ? " — " + e.reason : "");
    list.append(li);
  }
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  signIn().catch((err) => { token = ""; showError(err); });
});
$("logout").addEventListener("click", () => { sessionStorage.removeItem("baton-token"); location.reload(); });
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); page = 1; refresh().catch(showError); });
$("more").addEventListener("click", () => { page++; refresh().catch(showError); });
$("cand-more").addEventListener("click", () => showCandidates($("timeline-claim").textContent, true).catch(showError));
$("status-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  api("PUT", "/api/users/me/status", { status: $("status-select").value }).then(refresh).catch(showError);
});
$("away-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const until = new Date($("away-until").value).toISOString().replace(/\.\d{3}Z$/, "Z");
  api("POST", "/api/users/me/absences", { until, delegate: $("away-delegate").value.trim() }).then(refresh).catch(showError);
});
$("reassign-cancel").addEventListener("click", () => { $("reassign-section").hidden = true; });
$("reassign-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const claimId = ev.target.dataset.claim;
  act(claimId, "reassign", { userId: $("reassign-user").value.trim(), comment: $("reassign-comment").value })
    .then(() => { $("reassign-section").hidden = true; })
    .catch(showError);
});
if (token) signIn().catch(() => { token = ""; sessionStorage.removeItem("baton-token"); });
