// loa sandbox UI: polls the control API every second. Everything user-provided is inserted
// with textContent; only `html` (built server-side from escaped text + Telegram's tags) uses
// innerHTML.
"use strict";

const API = "/sandbox/api";
const MAX_CHATS = 300;
const $ = (id) => document.getElementById(id);
let selected = null;
let lastChats = "";
let lastMessages = "";
let lastMembers = "";

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
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function showError(err) {
  $("error").textContent = err ? String(err.message || err) : "";
}

function asUser() {
  return Number($("as-user").value);
}

function renderChats(chats) {
  const list = $("chats");
  list.replaceChildren();
  for (const c of chats) {
    const li = el("li");
    li.dataset.id = c.id;
    if (c.id === selected) li.classList.add("active");
    li.append(el("span", "title", c.title));
    let meta = `${c.platform} · ${c.type} · ${c.members_count} members`;
    if (c.migrated_to) meta += ` · migrated → ${c.migrated_to}`;
    li.append(el("span", "meta", meta));
    list.append(li);
  }
  if (!chats.length) list.append(el("li", "muted", "No chats."));
}

function renderKeyboard(msg) {
  const rows = (msg.reply_markup && msg.reply_markup.inline_keyboard) || [];
  if (!rows.length) return null;
  const box = el("div", "keyboard");
  for (const row of rows) {
    const line = el("div", "row");
    for (const b of row) {
      if (b.url && /^https?:\/\//i.test(b.url)) {
        const a = el("a", null, b.text);
        a.href = b.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        line.append(a);
      } else {
        const btn = el("button", null, b.text);
        btn.type = "button";
        if (b.callback_data !== undefined) {
          btn.onclick = () =>
            api("POST", `/chats/${selected}/press`, {
              user_id: asUser(), message_id: msg.message_id, callback_data: b.callback_data,
            }).then(() => showError(null), showError);
        } else {
          btn.disabled = true;
        }
        line.append(btn);
      }
    }
    box.append(line);
  }
  return box;
}

function renderPoll(poll) {
  const box = el("div", "poll");
  box.append(el("div", "q", poll.question));
  poll.options.forEach((o, i) => {
    const btn = el("button", null, `${o.text} — ${o.voter_count}`);
    btn.type = "button";
    btn.disabled = poll.is_closed;
    btn.onclick = () =>
      api("POST", `/polls/${poll.id}/answer`, { user_id: asUser(), option_ids: [i] })
        .then(() => showError(null), showError);
    box.append(btn);
  });
  const kind = [poll.is_anonymous ? "anonymous" : "public", poll.type];
  if (poll.is_closed) kind.push("closed");
  box.append(el("div", "muted", `${kind.join(" · ")} · ${poll.total_voter_count} votes`));
  return box;
}

function serviceText(s) {
  if (s.migrate_to_chat_id) return `Group upgraded to supergroup ${s.migrate_to_chat_id}`;
  if (s.migrate_from_chat_id) return `Supergroup created from group ${s.migrate_from_chat_id}`;
  return JSON.stringify(s);
}

function renderMessages(msgs) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren();
  for (const m of msgs) {
    if (m.service) {
      box.append(el("div", "msg service", `${m.sender.name}: ${serviceText(m.service)}`));
      continue;
    }
    const div = el("div", "msg" + (m.sender.is_bot ? " bot" : "") + (m.deleted ? " deleted" : ""));
    div.append(el("div", "from", m.sender.name));
    if (m.photo) div.append(el("div", "muted", "🖼 photo"));
    if (m.document) div.append(el("div", "muted", `📎 ${m.document.file_name || "document"}`));
    if (m.html !== null) {
      const body = el("div", "body");
      body.innerHTML = m.html; // server-escaped; see entities_to_html
      div.append(body);
    }
    if (m.poll) div.append(renderPoll(m.poll));
    const kb = renderKeyboard(m);
    if (kb) div.append(kb);
    const when = new Date(m.date * 1000).toLocaleTimeString();
    let foot = `#${m.message_id} · ${when}`;
    if (m.edited) foot += " · edited";
    if (m.deleted) foot += " · deleted";
    if (m.reply_to_message_id) foot = `↩ #${m.reply_to_message_id} · ` + foot;
    div.append(el("div", "foot", foot));
    box.append(div);
  }
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderMembers(chat) {
  const select = $("as-user");
  const keep = select.value;
  select.replaceChildren();
  for (const m of chat.members) {
    if (m.is_bot || !["member", "administrator", "creator"].includes(m.status)) continue;
    const opt = el("option", null, m.name);
    opt.value = m.id;
    select.append(opt);
  }
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

async function refresh() {
  try {
    const q = encodeURIComponent($("filter").value.trim());
    const chats = await api("GET", `/chats?limit=${MAX_CHATS}&q=${q}`);
    const chatsJson = JSON.stringify(chats);
    if (chatsJson !== lastChats) {
      lastChats = chatsJson;
      renderChats(chats);
    }
    if (selected !== null) {
      const [chat, msgs] = await Promise.all([
        api("GET", `/chats/${selected}`),
        api("GET", `/chats/${selected}/messages?limit=200`),
      ]);
      const membersJson = JSON.stringify(chat.members);
      if (membersJson !== lastMembers) {
        lastMembers = membersJson;
        renderMembers(chat);
      }
      $("chat-title").textContent = `${chat.title} (${chat.platform} ${chat.type} ${chat.id})`;
      const msgsJson = JSON.stringify(msgs);
      if (msgsJson !== lastMessages) {
        lastMessages = msgsJson;
        renderMessages(msgs);
      }
    }
  } catch (err) {
    showError(err);
  }
}

$("chats").addEventListener("click", (ev) => {
  const li = ev.target.closest("li[data-id]");
  if (!li) return;
  selected = Number(li.dataset.id);
  lastChats = lastMessages = lastMembers = "";
  $("composer").hidden = false;
  showError(null);
  refresh();
});

$("filter").addEventListener("input", () => {
  lastChats = "";
  refresh();
});

$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("text").value;
  if (!text.trim() || selected === null) return;
  api("POST", `/chats/${selected}/messages`, { user_id: asUser(), text })
    .then(() => {
      $("text").value = "";
      showError(null);
      refresh();
    }, showError);
});

refresh();
setInterval(refresh, 1000);
