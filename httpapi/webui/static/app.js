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
  for (const id of ["mywork-section", "queue-section"]) $(id).hidden = false;
  await refresh();
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
  const data = await api("GET", "/api/claims/" + encodeURIComponent(claimId) + "/timeline");
  $("timeline-section").hidden = false;
  $("timeline-claim").textContent = claimId;
  const list = $("timeline");
  list.replaceChildren();
  for (const e of data.events) {
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
$("reassign-cancel").addEventListener("click", () => { $("reassign-section").hidden = true; });
$("reassign-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const claimId = ev.target.dataset.claim;
  act(claimId, "reassign", { userId: $("reassign-user").value.trim(), comment: $("reassign-comment").value })
    .then(() => { $("reassign-section").hidden = true; })
    .catch(showError);
});
if (token) signIn().catch(() => { token = ""; sessionStorage.removeItem("baton-token"); });
