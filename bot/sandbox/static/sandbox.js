// loa sandbox UI: polls the control API about once a second. Everything user-provided is
// inserted with textContent; only `html` (built server-side from escaped text + Telegram's
// tags, see entities_to_html) uses innerHTML. The selected chat lives in the URL (#<chat id>),
// the "write as" member per chat in localStorage, so both survive a reload.
"use strict";

const API = "/sandbox/api";
const MAX_CHATS = 300;
const MAX_MESSAGES = 200;
const POLL_MS = 1000;
const ANSWER_WAIT_MS = 15000;
const $ = (id) => document.getElementById(id);

let selected = null; // chat id shown on the right
let chatInfo = null; // last GET chats/{selected}
let messages = []; // last GET chats/{selected}/messages
let lastChats = "";
let lastMessages = "";
let lastMembers = "";
let stickToBottom = true; // scroll to the newest message on the next render
let replyTo = null; // message_id the next message replies to
const pending = new Set(); // "<message_id>:<callback_data>" presses awaiting the bot's answer
const revealed = new Set(); // message_ids whose spoilers were clicked open
let statusText = $("status").textContent;
let online = true;

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function api(method, path, body) {
  const res = await fetch(API + path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  try {
    data = await res.json();
  } catch (_) {
    // not JSON (proxy error page, server gone...): fall through with data = null
  }
  if (!res.ok) {
    throw new ApiError((data && data.error) || `${res.status} ${res.statusText}`, res.status);
  }
  return data;
}

const plural = (n, word) => `${n} ${word}`; // Vietnamese nouns do not change for the number
const KIND = { group: "nhóm", supergroup: "siêu nhóm", private: "chat riêng" };
const PLATFORM = { zalo_bot: "Zalo Bot · ", zalo_oa: "Zalo OA · " };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- toasts (callback answers, errors) --------------------------------------------------------

function toast(text, { kind = "", who = null, url = null } = {}) {
  const box = $("toasts");
  const t = el("div", kind ? `toast ${kind}` : "toast");
  t.setAttribute("role", kind === "error" ? "alert" : "status");
  if (who) t.append(el("span", "who", who));
  if (text) t.append(document.createTextNode(text));
  if (url) {
    t.append(document.createTextNode(text ? " " : ""));
    if (/^https?:\/\//i.test(url)) {
      const a = el("a", null, url);
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      t.append(a);
    } else {
      t.append(document.createTextNode(url));
    }
  }
  const close = () => t.remove();
  box.append(t);
  if (kind === "alert") {
    // answerCallbackQuery(show_alert=True): a dialog the user has to dismiss, as in Telegram.
    const ok = el("button", null, "OK");
    ok.type = "button";
    ok.onclick = close;
    t.append(ok);
    ok.focus();
  } else {
    t.onclick = close;
    setTimeout(close, Math.max(3500, 70 * (text || "").length));
  }
  while (box.children.length > 4) box.firstChild.remove();
}

function toastError(err) {
  toast(String((err && err.message) || err), { kind: "error" });
}

function setOnline(ok, err) {
  const status = $("status");
  online = ok;
  status.classList.toggle("offline", !ok);
  status.textContent = ok ? statusText : `mất kết nối (${(err && err.message) || err}) — đang thử lại…`;
}

// --- storage ----------------------------------------------------------------------------------

function loadUser(chatId) {
  try {
    return localStorage.getItem(`loa-sandbox.as.${chatId}`);
  } catch (_) {
    return null;
  }
}

function saveUser(chatId, userId) {
  try {
    localStorage.setItem(`loa-sandbox.as.${chatId}`, String(userId));
  } catch (_) {
    // storage disabled: the choice just doesn't survive a reload
  }
}

function asUser() {
  const v = $("as-user").value;
  return v ? Number(v) : null;
}

// --- chat list --------------------------------------------------------------------------------

function markActive() {
  for (const a of $("chats").querySelectorAll("a[data-id]")) {
    const on = Number(a.dataset.id) === selected;
    a.classList.toggle("active", on);
    if (on) a.setAttribute("aria-current", "true");
    else a.removeAttribute("aria-current");
  }
}

function renderChats(chats, q) {
  const list = $("chats");
  const top = list.scrollTop;
  list.replaceChildren();
  for (const c of chats) {
    const li = el("li");
    const a = el("a");
    a.href = `#${c.id}`;
    a.dataset.id = c.id;
    a.append(el("span", "title", c.title));
    let meta = `${PLATFORM[c.platform] || ""}${KIND[c.type] || c.type} · ${plural(c.members_count, "thành viên")}`;
    if (c.message_count) meta += ` · ${plural(c.message_count, "tin")}`;
    if (c.migrated_to) meta += ` · đã chuyển → ${c.migrated_to}`;
    a.append(el("span", "meta", meta));
    li.append(a);
    list.append(li);
  }
  if (!chats.length) list.append(el("li", "muted", q ? "Không có chat nào khớp." : "Chưa có chat nào."));
  list.scrollTop = top;
  markActive();
  const n = `${chats.length}${chats.length >= MAX_CHATS ? "+" : ""}`;
  statusText = q ? `${n} chat khớp “${q}”` : `${n} chat`;
  if (online) $("status").textContent = statusText;
}

// --- the selected chat ------------------------------------------------------------------------

function chatFromHash() {
  const raw = decodeURIComponent(location.hash.slice(1));
  const id = Number(raw);
  return raw && Number.isSafeInteger(id) ? id : null;
}

function select(id) {
  if (id === selected) return;
  selected = id;
  chatInfo = null;
  messages = [];
  lastMessages = lastMembers = "";
  revealed.clear();
  stickToBottom = true;
  setReply(null);
  $("messages").replaceChildren();
  $("composer").hidden = true; // until the chat has loaded
  $("members").hidden = true;
  $("main").classList.toggle("chat-open", id !== null);
  const title = $("chat-title");
  title.textContent = id === null ? "Chọn một chat" : "Đang tải…";
  title.classList.toggle("placeholder", true);
  $("chat-meta").replaceChildren();
  document.title = "loa sandbox";
  markActive();
  refreshSoon();
}

function renderHead(chat) {
  const title = $("chat-title");
  title.textContent = chat.title;
  title.classList.remove("placeholder");
  document.title = `${chat.title} · loa sandbox`;
  const meta = $("chat-meta");
  meta.replaceChildren(
    `${PLATFORM[chat.platform] || ""}${KIND[chat.type] || chat.type} · id ${chat.id} · ${plural(chat.members_count, "thành viên")}`
  );
  // Zalo Bot shows no buttons: people answer with the number; in a group the bot sees
  // only what mentions it (or replies to it).
  $("text").placeholder = chat.platform !== "zalo_bot" ? "Tin nhắn…"
    : chat.type === "private" ? "Tin nhắn… (trả lời bằng số: 1, 2, …)"
    : "@Loa Sandbox 1 — trong nhóm Zalo, bot chỉ thấy tin nhắc tới nó";
  const links = [["chuyển sang", chat.migrated_to], ["chuyển từ", chat.migrated_from]];
  for (const [label, other] of links) {
    if (!other) continue;
    const a = el("a", null, String(other));
    a.href = `#${other}`;
    meta.append(` · ${label} `, a);
  }
}

function showMissing(chatId) {
  $("chat-title").textContent = `Chat ${chatId} không (còn) tồn tại`;
  $("chat-meta").replaceChildren();
  $("messages").replaceChildren();
  $("composer").hidden = true;
  chatInfo = null;
  messages = [];
  lastMessages = lastMembers = "";
}

function renderMembers(chat) {
  const select = $("as-user");
  const keep = select.dataset.chat === String(chat.id) ? select.value : loadUser(chat.id);
  select.dataset.chat = chat.id;
  select.replaceChildren();
  for (const m of chat.members) {
    if (m.is_bot || !["member", "administrator", "creator"].includes(m.status)) continue;
    const opt = el("option", null, m.status === "member" ? m.name : `${m.name} (${m.status})`);
    opt.value = m.id;
    select.append(opt);
  }
  renderMemberList(chat);
  const can = select.options.length > 0;
  if (!can) select.append(el("option", null, "(không ai trong chat viết được)"));
  else if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  select.disabled = !can;
  $("text").disabled = !can;
  $("composer").querySelector("button").disabled = !can;
}

function fmtTime(unix) {
  const d = new Date(unix * 1000);
  const time = d.toLocaleTimeString([], {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.toLocaleDateString([], { day: "2-digit", month: "2-digit" })} ${time}`;
}

function snippet(m) {
  const text = m.text ?? m.caption ?? (m.poll ? `📊 ${m.poll.question}` : "");
  const short = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return `${m.sender.name}: ${short.replace(/\s+/g, " ")}`;
}

function renderKeyboard(msg) {
  const rows = (msg.reply_markup && msg.reply_markup.inline_keyboard) || [];
  if (!rows.length) return null;
  const box = el("div", "keyboard");
  for (const row of rows) {
    const line = el("div", "row");
    for (const b of row) {
      if (b.url && /^https?:\/\//i.test(b.url)) {
        const a = el("a", null, `${b.text} ↗`);
        a.href = b.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.title = b.url;
        line.append(a);
        continue;
      }
      const btn = el("button", null, b.text);
      btn.type = "button";
      if (typeof b.callback_data === "string" && !msg.deleted) {
        const key = `${msg.message_id}:${b.callback_data}`;
        if (pending.has(key)) {
          btn.classList.add("pending");
          btn.setAttribute("aria-busy", "true");
        }
        btn.title = `callback_data: ${b.callback_data}`;
        btn.onclick = () => press(msg, b);
      } else {
        btn.disabled = true;
        const kind = Object.keys(b).find((k) => k !== "text") || "no action";
        btn.title = `${kind}: sandbox không mô phỏng`;
      }
      line.append(btn);
    }
    box.append(line);
  }
  return box;
}

async function press(msg, b) {
  const chatId = selected;
  const user = asUser();
  if (user === null) return toastError("Không ai trong chat này bấm nút được.");
  const key = `${msg.message_id}:${b.callback_data}`;
  if (pending.has(key)) return;
  pending.add(key);
  renderMessages();
  try {
    const res = await api("POST", `/chats/${chatId}/press`, {
      user_id: user, message_id: msg.message_id, callback_data: b.callback_data,
    });
    refreshSoon();
    const until = Date.now() + ANSWER_WAIT_MS;
    let q = await api("GET", `/callbacks/${encodeURIComponent(res.callback_query_id)}`);
    while (!q.answered && Date.now() < until) {
      await sleep(250);
      q = await api("GET", `/callbacks/${encodeURIComponent(res.callback_query_id)}`);
    }
    if (!q.answered) {
      toastError(`Bot không trả lời khi bấm “${b.text}” (không có answerCallbackQuery).`);
    } else if (q.answer.text || q.answer.url) {
      toast(q.answer.text, {
        kind: q.answer.show_alert ? "alert" : "",
        who: msg.sender.name,
        url: q.answer.url,
      });
    }
  } catch (err) {
    toastError(err);
  } finally {
    pending.delete(key);
    if (selected === chatId) renderMessages();
  }
}

function renderPoll(poll) {
  const box = el("div", "poll");
  box.append(el("div", "q", poll.question));
  const me = asUser();
  const mine = (me !== null && poll.votes && poll.votes[String(me)]) || [];
  poll.options.forEach((o, i) => {
    const chosen = mine.includes(i);
    const label = `${chosen ? "✓ " : ""}${o.text} — ${o.voter_count}`;
    const btn = el("button", chosen ? "mine" : null, label);
    btn.type = "button";
    btn.disabled = poll.is_closed || me === null;
    btn.setAttribute("aria-pressed", String(chosen));
    btn.onclick = () => {
      let ids;
      if (poll.allows_multiple_answers) {
        ids = chosen ? mine.filter((x) => x !== i) : [...mine, i].sort((x, y) => x - y);
      } else {
        ids = chosen ? [] : [i]; // clicking your own answer again retracts it
      }
      api("POST", `/polls/${encodeURIComponent(poll.id)}/answer`, { user_id: me, option_ids: ids })
        .then(refreshSoon, toastError);
    };
    box.append(btn);
  });
  const kind = [poll.is_anonymous ? "ẩn danh" : "công khai", poll.type === "quiz" ? "câu đố" : "bình chọn"];
  if (poll.allows_multiple_answers) kind.push("chọn nhiều");
  if (poll.is_closed) kind.push("đã đóng");
  box.append(el("div", "muted", `${kind.join(" · ")} · ${plural(poll.total_voter_count, "lượt chọn")}`));
  return box;
}

function serviceText(s) {
  if (s.migrate_to_chat_id) return `Nhóm đã nâng cấp thành siêu nhóm ${s.migrate_to_chat_id}`;
  if (s.migrate_from_chat_id) return `Siêu nhóm tạo từ nhóm ${s.migrate_from_chat_id}`;
  return JSON.stringify(s);
}

function renderMessage(m, byId) {
  if (m.service) {
    const div = el("div", "msg service", `${m.sender.name}: ${serviceText(m.service)}`);
    div.id = `m${m.message_id}`;
    return div;
  }
  const div = el("div", "msg" + (m.sender.is_bot ? " bot" : "") + (m.deleted ? " deleted" : ""));
  div.id = `m${m.message_id}`;
  const from = el("div", "from", m.sender.name);
  from.title = m.sender.username ? `@${m.sender.username} · ${m.sender.id}` : String(m.sender.id);
  div.append(from);
  if (m.reply_to_message_id) {
    const orig = byId.get(m.reply_to_message_id);
    const quote = el("span", "quote", orig ? `↩ ${snippet(orig)}` : `↩ #${m.reply_to_message_id}`);
    quote.dataset.jump = m.reply_to_message_id;
    div.append(quote);
  }
  if (m.photo) div.append(el("div", "muted", "🖼 ảnh"));
  if (m.document) div.append(el("div", "muted", `📎 ${m.document.file_name || "tệp"}`));
  if (m.html !== null && m.html !== undefined) {
    const body = el("div", "body");
    body.innerHTML = m.html; // server-escaped; see entities_to_html
    if (revealed.has(m.message_id)) {
      for (const sp of body.querySelectorAll(".tg-spoiler")) sp.classList.add("revealed");
    }
    div.append(body);
  }
  if (m.poll) div.append(renderPoll(m.poll));
  const kb = renderKeyboard(m);
  if (kb) div.append(kb);
  const foot = el("div", "foot");
  if (!m.deleted && chatInfo) {
    const reply = el("button", "reply", "Trả lời");
    reply.type = "button";
    reply.dataset.reply = m.message_id;
    foot.append(reply);
  }
  const bits = [`#${m.message_id}`, fmtTime(m.date)];
  if (m.edited) bits.push("đã sửa");
  if (m.deleted) bits.push("đã xóa");
  foot.append(el("span", null, bits.join(" · ")));
  div.append(foot);
  return div;
}

function renderMessages() {
  const box = $("messages");
  const atBottom = stickToBottom || box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const top = box.scrollTop;
  stickToBottom = false;
  const byId = new Map(messages.map((m) => [m.message_id, m]));
  const frag = document.createDocumentFragment();
  if (chatInfo && chatInfo.message_count > messages.length) {
    const note = `Đang hiện ${messages.length} tin cuối trong ${chatInfo.message_count} tin`;
    frag.append(el("div", "msg service", note));
  }
  for (const m of messages) frag.append(renderMessage(m, byId));
  if (!messages.length && chatInfo) frag.append(el("div", "msg service", "Chưa có tin nào"));
  box.replaceChildren(frag);
  box.scrollTop = atBottom ? box.scrollHeight : top;
}

function setReply(messageId) {
  replyTo = messageId;
  const m = messageId === null ? null : messages.find((x) => x.message_id === messageId);
  $("reply-bar").hidden = messageId === null;
  $("reply-text").textContent = m ? `Trả lời ${snippet(m)}` : `Trả lời #${messageId}`;
  if (messageId !== null) $("text").focus();
}

// --- polling ----------------------------------------------------------------------------------

async function refresh() {
  const q = $("filter").value.trim();
  const chatId = selected;
  const chats = await api("GET", `/chats?limit=${MAX_CHATS}&q=${encodeURIComponent(q)}`);
  if (!online) setOnline(true);
  const chatsJson = JSON.stringify(chats);
  if (chatsJson !== lastChats) {
    lastChats = chatsJson;
    renderChats(chats, q);
  }
  if (chatId === null) return;
  let chat, msgs;
  try {
    [chat, msgs] = await Promise.all([
      api("GET", `/chats/${chatId}`),
      api("GET", `/chats/${chatId}/messages?limit=${MAX_MESSAGES}`),
    ]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      if (chatId === selected) showMissing(chatId);
      return;
    }
    throw err;
  }
  if (chatId !== selected) return; // the user switched chats meanwhile
  const first = chatInfo === null;
  chatInfo = chat;
  if (first) $("composer").hidden = false;
  renderHead(chat);
  const membersJson = JSON.stringify(chat.members);
  if (membersJson !== lastMembers) {
    lastMembers = membersJson;
    renderMembers(chat);
  }
  const msgsJson = JSON.stringify(msgs);
  if (first || msgsJson !== lastMessages) {
    lastMessages = msgsJson;
    messages = msgs;
    renderMessages();
  }
}

let dirty = false;
let wake = null;

function refreshSoon() {
  dirty = true;
  if (wake) wake();
}

async function loop() {
  for (;;) {
    dirty = false;
    if (!document.hidden) {
      try {
        await refresh();
      } catch (err) {
        if (!(err instanceof ApiError || err instanceof TypeError)) console.error(err);
        setOnline(false, err);
      }
    }
    if (!dirty) await new Promise((resolve) => { wake = resolve; setTimeout(resolve, POLL_MS); });
    wake = null;
  }
}

// --- actions ----------------------------------------------------------------------------------

async function send(text, replyId) {
  const chatId = selected;
  const user = asUser();
  if (chatId === null) return false;
  if (user === null) {
    toastError("Không ai trong chat này viết được: hãy thêm thành viên trước.");
    return false;
  }
  const body = { user_id: user, text };
  if (replyId) body.reply_to_message_id = replyId;
  try {
    await api("POST", `/chats/${chatId}/messages`, body);
  } catch (err) {
    toastError(err);
    return false;
  }
  if (chatId === selected) stickToBottom = true;
  refreshSoon();
  return true;
}

// --- people, groups and members: what the control API does, from the page --------------------

const PRESENT = ["member", "administrator", "creator"];
let botId = null; // loa's bot in this sandbox

async function loadPeople() {
  const [users, bots] = await Promise.all([api("GET", "/users"), api("GET", "/bots")]);
  botId = bots.length ? bots[0].id : null;
  for (const sel of document.querySelectorAll("select.people")) {
    const keep = sel.value;
    sel.replaceChildren();
    for (const u of users) {
      const opt = el("option", null, u.name);
      opt.value = u.id;
      sel.append(opt);
    }
    if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  }
  return users;
}

function renderMemberList(chat) {
  const box = $("members");
  box.hidden = chat.type === "private";
  const list = $("member-list");
  list.replaceChildren();
  for (const m of chat.members) {
    if (!PRESENT.includes(m.status)) continue;
    const li = el("li", null);
    li.append(el("span", null, m.is_bot ? `${m.name} (bot)` : m.name));
    const out = el("button", "remove", "Xóa khỏi nhóm");
    out.type = "button";
    out.setAttribute("aria-label", `Xóa ${m.name} khỏi nhóm`);
    out.onclick = () => removeMember(chat.id, m);
    li.append(out);
    list.append(li);
  }
}

async function addMember(userId) {
  const chatId = selected;
  if (chatId === null || userId === null) return;
  const body = { user_id: userId };
  if (asUser() !== null) body.by_user_id = asUser();
  try {
    await api("POST", `/chats/${chatId}/members`, body);
  } catch (err) {
    return toastError(err);
  }
  refreshSoon();
}

async function removeMember(chatId, m) {
  const by = asUser();
  const status = by === m.id ? "left" : "kicked";
  const query = by === null || by === m.id ? `?status=${status}` : `?by_user_id=${by}`;
  try {
    await api("DELETE", `/chats/${chatId}/members/${m.id}${query}`);
  } catch (err) {
    return toastError(err);
  }
  refreshSoon();
}

for (const panel of [$("setup"), $("members")]) {
  panel.addEventListener("toggle", () => {
    if (panel.open) loadPeople().catch(toastError);
  });
}

$("new-person").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const name = $("person-name").value.trim();
  if (!name) return;
  try {
    const user = await api("POST", "/users", { name });
    await loadPeople();
    $("private-user").value = $("group-creator").value = String(user.id);
    $("person-name").value = "";
    toast(`Đã tạo ${user.name}.`);
  } catch (err) {
    toastError(err);
  }
});

$("open-private").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const user = Number($("private-user").value);
  if (!user) return;
  try {
    await api("POST", "/chats", {
      type: "private", user_id: user, members: botId === null ? [] : [botId],
    });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 409)) return toastError(err); // 409: exists
  }
  location.hash = `#${user}`;
});

$("new-group").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const title = $("group-title").value.trim();
  const creator = Number($("group-creator").value);
  if (!title || !creator) return;
  try {
    const chat = await api("POST", "/chats", { type: "group", title, members: [creator] });
    saveUser(chat.id, creator);
    $("group-title").value = "";
    $("members").open = true;
    location.hash = `#${chat.id}`;
  } catch (err) {
    toastError(err);
  }
});

$("add-member").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const user = Number($("member-user").value);
  if (user) addMember(user);
});

$("add-bot").addEventListener("click", () => {
  if (botId === null) return toastError("Sandbox chưa có bot nào: hãy chạy loa trước.");
  addMember(botId);
});

window.addEventListener("hashchange", () => select(chatFromHash()));

$("filter").addEventListener("input", () => {
  lastChats = "";
  refreshSoon();
});

$("as-user").addEventListener("change", () => {
  if (selected !== null && asUser() !== null) saveUser(selected, asUser());
  renderMessages(); // the poll highlights this member's votes
});

$("composer").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $("text");
  const button = $("composer").querySelector("button");
  const text = input.value;
  if (!text.trim() || button.disabled) return;
  button.disabled = true;
  const ok = await send(text, replyTo);
  button.disabled = false;
  if (ok) {
    if (input.value === text) input.value = "";
    setReply(null);
  }
  input.focus();
});

// A photo (an image) or a document, as the chosen member; the text box is its caption.
$("file").addEventListener("change", async () => {
  const input = $("file");
  const file = input.files && input.files[0];
  input.value = "";
  const chatId = selected;
  const user = asUser();
  if (!file || chatId === null) return;
  if (user === null) {
    toastError("Không ai trong chat này viết được: hãy thêm thành viên trước.");
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  const photo = file.type.startsWith("image/") && file.type !== "image/gif";
  const body = { user_id: user, kind: photo ? "photo" : "document", data: btoa(binary) };
  if (!photo) {
    body.file_name = file.name;
    if (file.type) body.mime_type = file.type;
  }
  const caption = $("text").value;
  if (caption.trim()) body.caption = caption;
  if (replyTo) body.reply_to_message_id = replyTo;
  try {
    await api("POST", `/chats/${chatId}/files`, body);
  } catch (err) {
    toastError(err);
    return;
  }
  $("text").value = "";
  setReply(null);
  stickToBottom = true;
  refreshSoon();
});

$("text").addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && replyTo !== null) setReply(null);
});

$("reply-cancel").addEventListener("click", () => setReply(null));

$("messages").addEventListener("click", (ev) => {
  const t = ev.target;
  const link = t.closest("a[href]");
  if (link && link.getAttribute("href") === "#") {
    ev.preventDefault(); // an unsafe link neutralised by the server: keep the selected chat
    return;
  }
  const spoiler = t.closest(".tg-spoiler");
  if (spoiler && !spoiler.classList.contains("revealed")) {
    const msg = spoiler.closest(".msg");
    revealed.add(Number(msg.id.slice(1)));
    for (const sp of msg.querySelectorAll(".tg-spoiler")) sp.classList.add("revealed");
    return;
  }
  const command = t.closest(".tg-command");
  if (command && !link) {
    send(command.textContent, null); // as in Telegram: tapping a /command sends it
    return;
  }
  const quote = t.closest(".quote");
  if (quote) {
    const target = $(`m${quote.dataset.jump}`);
    if (target) {
      target.scrollIntoView({ block: "center", behavior: "smooth" });
      target.classList.add("flash");
      setTimeout(() => target.classList.remove("flash"), 1200);
    }
    return;
  }
  const reply = t.closest("button.reply");
  if (reply) setReply(Number(reply.dataset.reply));
});

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refreshSoon();
});

select(chatFromHash());
loadPeople().catch(() => {}); // the polling loop reports the sandbox being away
loop();
