// Nexus script: small niceties only; every page works without it.
"use strict";

// A button with data-confirm asks before its form is sent (deletes).
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A form sent once cannot be sent again by a second tap while the page loads.
document.addEventListener("submit", (event) => {
  if (event.defaultPrevented || event.target.method === "get") {
    return;
  }
  const form = event.target;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
});

// A page restored by the back button may be sent again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-sending]")) {
    delete form.dataset.sending;
  }
});

// Keep the first invalid field in view after a refused form.
document.addEventListener("DOMContentLoaded", () => {
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) {
    invalid.focus();
  }
});

// On a phone the navigation scrolls sideways: bring the current page's entry into view.
document.addEventListener("DOMContentLoaded", () => {
  const active = document.querySelector(".top nav a.active");
  if (active && active.parentElement.scrollWidth > active.parentElement.clientWidth) {
    active.scrollIntoView({ block: "nearest", inline: "center" });
  }
});

// A field with data-enter-focus hands Enter on to the named field: a scanner types the
// order number and Enter, and the operator goes on to the quantity.
document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key !== "Enter" || !(field instanceof HTMLElement) || !field.dataset.enterFocus) {
    return;
  }
  const next = document.getElementById(field.dataset.enterFocus);
  if (next) {
    event.preventDefault();
    next.focus();
    next.select();
  }
});

// The production board: movements from the event stream join the table as they happen,
// and the totals follow.
document.addEventListener("DOMContentLoaded", () => {
  const board = document.getElementById("board");
  if (board && window.EventSource) {
    liveBoard(board);
  }
});

function liveBoard(board) {
  const movements = board.querySelector("#movements tbody");
  const totals = board.querySelector("#totals tbody");
  const day = board.dataset.day;
  const maxRows = Number(board.dataset.rows) || 50;
  const zone = (() => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: board.dataset.timezone });
      return board.dataset.timezone;
    } catch {
      return "UTC";
    }
  })();
  const clock = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  const calendar = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
  });

  const element = (tag, text, className) => {
    const node = document.createElement(tag);
    if (text !== undefined) {
      node.textContent = text;
    }
    if (className) {
      node.className = className;
    }
    return node;
  };
  const byData = (parent, name, value) =>
    parent.querySelector(`[data-${name}="${CSS.escape(String(value))}"]`);
  const code = (id) => {
    const row = byData(totals, "wc", id);
    return row ? row.dataset.code : `#${id}`;
  };
  const direction = (type) => element("span", type, type === "IN" ? "dir in" : "dir out");
  const reverseForm = (id) => {
    const template = document.getElementById("reverse-form");
    if (!template) {
      return null;
    }
    const form = template.content.firstElementChild.cloneNode(true);
    form.action = `/production/movements/${encodeURIComponent(id)}/reverse`;
    return form;
  };

  const addRow = (m) => {
    const row = element("tr", undefined, "fresh");
    row.dataset.id = m.id;
    const order = element("td", undefined, "nowrap");
    order.append(element("strong", m.production_order));
    const type = element("td");
    type.append(direction(m.order_type));
    const action = element("td", undefined, "act");
    if (m.reverses_id) {
      action.append(element("span", `reversal of #${m.reverses_id}`, "badge muted"));
    } else {
      const form = reverseForm(m.id);
      if (form) {
        action.append(form);
      }
    }
    row.append(
      element("td", clock.format(new Date(m.created_at)), "nowrap"),
      order,
      element("td", code(m.workcenter_id)),
      type,
      element("td", `${m.reverses_id ? "−" : ""}${m.quantity}`, "num"),
      element("td", String(m.user_id)),
      action,
    );
    const none = movements.querySelector("tr.none");
    if (none) {
      none.remove();
    }
    movements.prepend(row);
    while (movements.rows.length > maxRows) {
      movements.deleteRow(-1);
    }
  };

  // Totals are counted by the server; after a reversal (which may belong to an
  // earlier movement) they are fetched again rather than guessed.
  let fetching = false;
  let again = false;
  const totalsRow = (t) => {
    let row = byData(totals, "wc", t.workcenter_id);
    if (!row) {
      row = element("tr");
      row.dataset.wc = t.workcenter_id;
      row.dataset.code = t.workcenter_code;
      const name = element("td");
      name.append(element("strong", t.workcenter_code), " ", element("span", t.workcenter_name, "muted"));
      row.append(name);
      for (const key of ["in_quantity", "out_quantity", "movements", "scrap"]) {
        const cell = element("td", "0", "num");
        cell.dataset.k = key;
        row.append(cell);
      }
      totals.append(row);
    }
    return row;
  };
  const setTotal = (row, key, value) => {
    byData(row, "k", key).textContent = String(value);
  };
  const refreshTotals = () => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    const query = new URLSearchParams({ from: day, to: day });
    fetch(`/api/v1/reports/production/work-centers?${query}`, { headers: { Accept: "application/json" } })
      .then((res) => (res.ok ? res.json() : Promise.reject(new Error(res.statusText))))
      .then((list) => {
        const seen = new Set();
        for (const t of list) {
          const row = totalsRow(t);
          seen.add(row.dataset.wc);
          setTotal(row, "in_quantity", t.in_quantity);
          setTotal(row, "out_quantity", t.out_quantity);
          setTotal(row, "movements", t.in_movements + t.out_movements);
          setTotal(row, "scrap", t.scrap);
        }
        for (const row of totals.rows) {
          if (!seen.has(row.dataset.wc)) {
            for (const key of ["in_quantity", "out_quantity", "movements", "scrap"]) {
              setTotal(row, key, 0);
            }
          }
        }
      })
      .catch(() => show("retry", "Totals could not be updated; reload the page."))
      .finally(() => {
        fetching = false;
        if (again) {
          again = false;
          refreshTotals();
        }
      });
  };
  const count = (m) => {
    const row = byData(totals, "wc", m.workcenter_id);
    if (fetching || !row) {
      refreshTotals();
      return;
    }
    const add = (key, amount) => {
      const cell = byData(row, "k", key);
      cell.textContent = String(Number(cell.textContent) + amount);
    };
    add(m.order_type === "IN" ? "in_quantity" : "out_quantity", m.quantity);
    add("movements", 1);
    add("scrap", m.scrap_quantity || 0);
  };

  const { source, show } = stream("production_order");
  source.addEventListener("production_order.created", (event) => {
    const m = JSON.parse(event.data).data;
    // A new plant day has begun: start a fresh board.
    if (calendar.format(new Date(m.created_at)) > day) {
      window.location.reload();
      return;
    }
    addRow(m);
    count(m);
  });
  source.addEventListener("production_order.reversed", (event) => {
    const m = JSON.parse(event.data).data;
    addRow(m);
    const original = byData(movements, "id", m.reverses_id);
    if (original) {
      original.querySelector("td.act").replaceChildren(element("span", "reversed", "badge muted"));
    }
    refreshTotals();
  });
}

// A page left for another is kept by the browser for the back button, and its event
// streams with it: each holds one of the six connections a browser opens to a server, so
// after a few pages the next one waited a minute. Streams close when the page is left,
// and a page shown again from that cache is loaded afresh (its live parts are stale).
function closeOnLeaving(source) {
  window.addEventListener("pagehide", () => source.close());
}

window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    window.location.reload();
  }
});

// What the shell's parts want from its one event stream (opened at the end of loading).
const shellWants = [];

// Calls `handler` when one of the events `names` arrives on the shell's stream.
function onShellEvents(names, handler) {
  if (names.length > 0) {
    shellWants.push({ names, handler });
  }
}

// The page's event stream of `topics`, its state told in the page's #live status.
function stream(topics) {
  const status = document.getElementById("live");
  const show = (state, text) => {
    if (status) {
      status.dataset.state = state;
      status.textContent = text;
    }
  };
  const source = new EventSource(`/api/v1/events/stream?topics=${topics}`);
  closeOnLeaving(source);
  show("off", "Connecting…");
  source.addEventListener("open", () => show("on", "Live"));
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      show("retry", "Offline: reload the page.");
    } else {
      show("retry", "Reconnecting…");
    }
  });
  return { source, show };
}

// Redraws `region` from `url` (the element of the same id in what it answers): one fetch
// at a time and at most one a second, however fast events arrive.
function redrawer(region, url, show) {
  let fetching = false;
  let again = false;
  const redraw = () => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    fetch(url(), { headers: { Accept: "text/html" } })
      .then((res) => (res.ok ? res.text() : Promise.reject(new Error(res.statusText))))
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
        region.innerHTML = fresh ? fresh.innerHTML : html;
      })
      .catch(() => show("retry", "Could not be updated; reload the page."))
      .finally(() => {
        window.setTimeout(() => {
          fetching = false;
          if (again) {
            again = false;
            redraw();
          }
        }, 1000);
      });
  };
  return redraw;
}

// An asset's metrics page: when readings of the asset are stored, or its alerts change,
// its metric cards are drawn afresh by the server.
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("metrics");
  if (panel && panel.dataset.panel && window.EventSource) {
    const asset = Number(panel.dataset.asset);
    const { source, show } = stream("metric_reading,alert");
    const redraw = redrawer(panel, () => panel.dataset.panel, show);
    source.addEventListener("metric_reading.stored", (event) => {
      if (JSON.parse(event.data).id === asset) {
        redraw();
      }
    });
    for (const kind of ["opened", "escalated", "acknowledged", "resolved"]) {
      source.addEventListener(`alert.${kind}`, (event) => {
        const data = JSON.parse(event.data).data;
        if (data && data.asset_id === asset) {
          redraw();
        }
      });
    }
  }
});

// A region with data-live-events (the alert list, the risk ranking) is drawn afresh from
// the page itself when one of those events arrives.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.EventSource) {
    return;
  }
  for (const region of document.querySelectorAll("[data-live-events]")) {
    const events = region.dataset.liveEvents.split(" ");
    const topics = [...new Set(events.map((e) => e.split(".")[0]))].join(",");
    const { source, show } = stream(topics);
    const redraw = redrawer(region, () => window.location.href, show);
    for (const name of events) {
      source.addEventListener(name, redraw);
    }
  }
});

// Phone-first lists: on a narrow screen the stylesheet lays every table out as cards,
// each cell led by its column's heading, which this copies into the cell's data-label.
// Rows drawn later (live boards, redrawn regions) are labelled as they arrive.
function labelTable(table) {
  const head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
  if (!head) {
    return;
  }
  const labels = [];
  for (const th of head.cells) {
    const text = th.textContent.trim();
    for (let i = 0; i < th.colSpan; i += 1) {
      labels.push(text);
    }
  }
  for (const body of table.tBodies) {
    for (const row of body.rows) {
      let column = 0;
      for (const cell of row.cells) {
        const label = cell.colSpan === 1 ? labels[column] : "";
        if (label) {
          cell.dataset.label = label;
        } else {
          delete cell.dataset.label;
        }
        column += cell.colSpan;
      }
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table")) {
    labelTable(table);
  }
  new MutationObserver((changes) => {
    const seen = new Set();
    for (const change of changes) {
      const target = change.target instanceof Element ? change.target : change.target.parentElement;
      const table = target && target.closest("table");
      if (table) {
        seen.add(table);
      }
      for (const node of change.addedNodes) {
        if (node instanceof Element) {
          for (const inner of node.querySelectorAll("table")) {
            seen.add(inner);
          }
          if (node.matches("table")) {
            seen.add(node);
          }
        }
      }
    }
    for (const table of seen) {
      labelTable(table);
    }
  }).observe(document.body, { childList: true, subtree: true });
});

// The Menu button opens and closes the navigation drawer on a phone.
document.documentElement.classList.add("js");
document.addEventListener("click", (event) => {
  const toggle = event.target.closest(".menu-toggle");
  if (!toggle) {
    return;
  }
  const open = document.body.classList.toggle("nav-open");
  toggle.setAttribute("aria-expanded", String(open));
});

// The navigation's counts (open alerts, my work orders, new requests, ...): fetched once
// the page is shown and again when an event that changes them arrives, at most every few
// seconds however busy the plant is.
document.addEventListener("DOMContentLoaded", () => {
  const nav = document.getElementById("sidebar");
  if (!nav || !window.fetch) {
    return;
  }
  const show = (counts) => {
    for (const badge of nav.querySelectorAll("[data-count-for]")) {
      const mine = counts.filter((c) => c.nav === badge.dataset.countFor && c.count > 0);
      badge.hidden = mine.length === 0;
      badge.replaceChildren();
      if (mine.length > 0) {
        const worst = mine.reduce((a, b) => (tones.indexOf(b.tone) > tones.indexOf(a.tone) ? b : a));
        badge.className = `nav-count tone-${worst.tone}`;
        const number = document.createElement("span");
        number.setAttribute("aria-hidden", "true");
        number.textContent = mine.reduce((n, c) => n + c.count, 0);
        const words = document.createElement("span");
        words.className = "visually-hidden";
        words.textContent = mine.map((c) => `, ${c.count} ${c.label.toLowerCase()}`).join("");
        badge.append(number, words);
      }
    }
  };
  const tones = ["calm", "notice", "warning", "critical"];
  let waiting = false;
  let again = false;
  const refresh = () => {
    if (waiting) {
      again = true;
      return;
    }
    waiting = true;
    window.setTimeout(() => {
      waiting = false;
      if (again) {
        again = false;
        refresh();
      }
    }, 3000);
    fetch("/api/v1/auth/me/attention", { headers: { Accept: "application/json" } })
      .then((res) => (res.ok ? res.json() : Promise.reject(new Error(res.statusText))))
      .then((list) => show(list.items))
      .catch(() => {});
  };
  refresh();
  const events = (nav.dataset.attentionEvents || "").split(" ").filter((e) => e);
  let later = null;
  onShellEvents(events, () => {
    window.clearTimeout(later);
    later = window.setTimeout(refresh, 1000);
  });
});

// Search as you type: an input with data-choices fills its datalist with the matches the
// server offers for what is typed (the form's Find button does the same without script).
document.addEventListener("input", (event) => {
  const input = event.target.closest ? event.target.closest("input[data-choices]") : null;
  if (!input || !input.list || !window.fetch) {
    return;
  }
  window.clearTimeout(input.choicesTimer);
  input.choicesTimer = window.setTimeout(() => {
    const url = `${input.dataset.choices}?q=${encodeURIComponent(input.value)}`;
    fetch(url, { headers: { Accept: "text/html" } })
      .then((res) => (res.ok ? res.text() : Promise.reject(new Error(res.statusText))))
      .then((html) => {
        const fresh = new DOMParser().parseFromString(`<datalist>${html}</datalist>`, "text/html");
        input.list.replaceChildren(...fresh.querySelectorAll("option"));
      })
      .catch(() => {});
  }, 250);
});

// The bell and the system message banners: my unread count and the messages for me,
// fetched once the page is shown and again (at most every second or so) when an event
// about one of mine arrives. A banner's Dismiss closes it for good.
document.addEventListener("DOMContentLoaded", () => {
  const bell = document.getElementById("bell");
  const banners = document.getElementById("system-messages");
  if (!bell || !banners || !window.fetch) {
    return;
  }
  const json = (url) =>
    fetch(url, { headers: { Accept: "application/json" } }).then((res) =>
      res.ok ? res.json() : Promise.reject(new Error(res.statusText)),
    );
  const count = () =>
    json("/api/v1/notifications/unread-count")
      .then(({ unread }) => {
        const badge = bell.querySelector(".bell-count");
        badge.hidden = unread === 0;
        badge.textContent = unread > 99 ? "99+" : String(unread);
        bell.querySelector(".bell-unread").textContent = unread === 0 ? ", none unread" : `, ${unread} unread`;
        bell.classList.toggle("has-unread", unread > 0);
      })
      .catch(() => {});
  const dismiss = (id, item) =>
    fetch(`/api/v1/system-messages/${id}/dismiss`, {
      method: "POST",
      headers: { "x-csrf-token": banners.dataset.csrf || "" },
    })
      .then((res) => {
        if (res.ok || res.status === 404) {
          item.remove();
        }
      })
      .catch(() => {});
  const messages = () =>
    json("/api/v1/system-messages/active")
      .then((list) => {
        const items = list.map((m) => {
          const item = document.createElement("div");
          item.className = `system-message tone-${m.message_type}`;
          item.setAttribute("role", m.message_type === "error" ? "alert" : "status");
          const text = document.createElement("p");
          const title = document.createElement("strong");
          title.textContent = m.title;
          text.append(title, ` ${m.content}`);
          const button = document.createElement("button");
          button.type = "button";
          button.className = "link";
          button.textContent = "Dismiss";
          const what = document.createElement("span");
          what.className = "visually-hidden";
          what.textContent = `: ${m.title}`;
          button.append(what);
          button.addEventListener("click", () => dismiss(m.id, item));
          item.append(text, button);
          return item;
        });
        banners.replaceChildren(...items);
      })
      .catch(() => {});
  count();
  messages();
  const later = { notification: null, system_message: null };
  const soon = (topic, redo) => () => {
    window.clearTimeout(later[topic]);
    later[topic] = window.setTimeout(redo, 800);
  };
  onShellEvents(["notification.created", "notification.updated"], soon("notification", count));
  onShellEvents(
    ["system_message.created", "system_message.updated", "system_message.deleted", "system_message.dismissed"],
    soon("system_message", messages),
  );
});

// The shell's one event stream, for the navigation's counts, the bell and the banners
// alike (a browser keeps few connections per server open): opened once every part has
// said which events it wants.
document.addEventListener("DOMContentLoaded", () => {
  if (shellWants.length === 0 || !window.EventSource) {
    return;
  }
  const names = shellWants.flatMap((want) => want.names);
  const topics = [...new Set(names.map((e) => e.split(".")[0]))].join(",");
  const source = new EventSource(`/api/v1/events/stream?topics=${topics}`);
  closeOnLeaving(source);
  for (const want of shellWants) {
    for (const name of want.names) {
      source.addEventListener(name, want.handler);
    }
  }
});

// Trees (locations, assets): a node's button fetches its branch (list items drawn by the
// server) the first time it opens, and a branch's "Show more" fetches its next page in
// place. Without script the buttons stay hidden and the links lead to the same rows.
function treeItems(url) {
  return fetch(url, { headers: { Accept: "text/html" } })
    .then((res) => (res.ok ? res.text() : Promise.reject(new Error(res.statusText))))
    .then((html) => new DOMParser().parseFromString(`<ul>${html}</ul>`, "text/html").body.firstChild.children);
}

function showTreeButtons(root) {
  for (const button of root.querySelectorAll("button[data-tree]")) {
    button.hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if (window.fetch) {
    showTreeButtons(document);
  }
});

document.addEventListener("click", (event) => {
  const target = event.target.closest ? event.target : null;
  const toggle = target && target.closest("button[data-tree]");
  const more = target && target.closest("a[data-tree-more]");
  if (toggle) {
    const branch = document.getElementById(toggle.getAttribute("aria-controls"));
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    branch.hidden = !open;
    if (open && !branch.dataset.loaded) {
      branch.dataset.loaded = "1";
      branch.setAttribute("aria-busy", "true");
      treeItems(toggle.dataset.tree)
        .then((items) => {
          branch.replaceChildren(...items);
          showTreeButtons(branch);
        })
        .catch(() => {
          delete branch.dataset.loaded;
          toggle.setAttribute("aria-expanded", "false");
          branch.hidden = true;
        })
        .finally(() => branch.removeAttribute("aria-busy"));
    }
  } else if (more) {
    event.preventDefault();
    const item = more.closest("li");
    const list = item.parentElement;
    treeItems(more.dataset.treeMore)
      .then((items) => {
        item.replaceWith(...items);
        showTreeButtons(list);
      })
      .catch(() => {
        window.location.href = more.href;
      });
  }
});
