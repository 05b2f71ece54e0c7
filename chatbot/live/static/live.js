// The live page's script: applies each snapshot the stream sends, and sends the buttons'
// forms without leaving the page. Post content only ever goes in through textContent
// and attribute values; nothing here parses HTML.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const byId = (id) => document.getElementById(id);
  const WEB = /^https?:\/\//i;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function link(url, text, rel) {
    if (!url || !WEB.test(url)) return el("span", {}, text);
    return el("a", { href: url, rel: rel, target: "_blank" }, text);
  }

  function actForm(action, label, fields, extra) {
    const form = el("form", { class: "act " + action, method: "post", action: "/act/" + action });
    form.append(el("input", { type: "hidden", name: "csrf", value: csrf }));
    for (const [name, value] of Object.entries(fields || {})) {
      form.append(el("input", { type: "hidden", name: name, value: value }));
    }
    if (extra) form.append(extra);
    form.append(el("button", { type: "submit" }, label));
    return form;
  }

  function postItem(post, why) {
    const reason = el("input", {
      type: "text", name: "reason", placeholder: "reason to hide", "aria-label": "reason to hide",
    });
    return el(
      "li", { class: "post" },
      el(
        "p", { class: "meta" },
        link(post.url, "@" + post.author, "noreferrer noopener nofollow"), " ",
        el("span", { class: "net" }, post.network), " ",
        el("time", {}, post.time_local),
      ),
      el("p", { class: "text" }, post.text),
      why ? el("p", { class: "why" }, why) : null,
      actForm("hide", "Hide", { post: post.uri }, reason),
    );
  }

  function setClock(clock) {
    byId("now").textContent = clock.now_local;
    const next = byId("next");
    if (!clock.next_label) {
      next.replaceChildren("Every post is done.");
      return;
    }
    next.replaceChildren(
      "Next: ", el("b", { id: "next-label" }, clock.next_label),
      " at ", el("span", { id: "next-at" }, clock.next_local), " ",
      el("span", { id: "countdown", class: "countdown" }, clock.countdown),
    );
  }

  function slot(post) {
    const deliveries = el("ul", { class: "deliveries" });
    let pending = false;
    for (const [network, info] of Object.entries(post.deliveries)) {
      if (info.state === "pending") pending = true;
      deliveries.append(el(
        "li", { class: "d-" + info.state.split(" ")[0] },
        el("span", { class: "net" }, network), " ",
        info.url ? link(info.url, info.state, "noreferrer noopener")
          : el("span", { class: "st" }, info.state),
        info.error ? " " : null, info.error ? el("small", {}, info.error) : null,
      ), " ");
    }
    return el(
      "li", { class: "slot" },
      el("p", {}, el("b", { class: "label" }, post.label), " ", el("time", {}, post.due_local)),
      deliveries,
      pending ? el(
        "div", { class: "row-acts" },
        actForm("skip", "Skip", { post: post.label }),
        actForm("post-now", "Post now", { post: post.label }),
      ) : null,
    );
  }

  // What the moderator is typing in a hide form survives the lists being rebuilt.
  function typed() {
    const kept = new Map();
    let focused = null;
    for (const input of document.querySelectorAll("form.hide input[name=reason]")) {
      const uri = input.form.elements.post.value;
      const where = input.closest("ol").id || "questions";
      if (input.value) kept.set(where + " " + uri, input.value);
      if (input === document.activeElement) {
        focused = [where + " " + uri, input.selectionStart, input.selectionEnd];
      }
    }
    return { kept, focused };
  }

  function retype(before) {
    for (const input of document.querySelectorAll("form.hide input[name=reason]")) {
      const key = (input.closest("ol").id || "questions") + " " + input.form.elements.post.value;
      if (before.kept.has(key)) input.value = before.kept.get(key);
      if (before.focused && before.focused[0] === key) {
        input.focus();
        input.setSelectionRange(before.focused[1], before.focused[2]);
      }
    }
  }

  function apply(data) {
    const before = typed();
    const event = data.event;
    byId("hashtag").textContent = "#" + event.hashtag;
    byId("title").textContent = event.title;
    const state = byId("state");
    state.textContent = event.state;
    state.className = "state s-" + event.state;
    setClock(data.clock);
    byId("schedule").replaceChildren(...data.schedule.map(slot));
    const counts = [String(data.total) + " posts"];
    for (const [network, n] of Object.entries(data.counts)) {
      counts.push(el("span", { class: "count" }, " · " + network + " " + n));
    }
    byId("counts").replaceChildren(...counts);
    const questions = data.questions.map((q) => el(
      "section", { class: "question" },
      el(
        "h3", {}, el("b", {}, q.label), " ", el("span", { class: "qtext" }, q.text), " ",
        el("span", { class: "n" }, String(q.count)),
      ),
      el("ol", { class: "posts" }, ...q.answers.map((post) => postItem(post))),
    ));
    questions.push(el(
      "p", { class: "unplaced" }, "Not placed under a question: ",
      el("span", {}, String(data.unplaced)),
    ));
    byId("questions").replaceChildren(...questions);
    byId("spam").replaceChildren(...data.spam.map((post) => postItem(post, post.reason)));
    byId("review").replaceChildren(...data.review.map((post) => postItem(
      post,
      "guess " + post.guess + " (" + post.confidence + ")" +
        (post.runner_up ? ", else " + post.runner_up : ""),
    )));
    retype(before);
  }

  function show(ok, message) {
    const outcome = byId("outcome");
    outcome.textContent = message;
    outcome.className = ok ? "outcome" : "outcome error";
    outcome.hidden = false;
  }

  document.addEventListener("submit", async (submitted) => {
    const form = submitted.target;
    if (!form.classList || !form.classList.contains("act")) return;
    submitted.preventDefault();
    const body = new URLSearchParams(new FormData(form));
    try {
      const response = await fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) {
        show(false, (await response.text()).trim());
        return;
      }
      const outcome = await response.json();
      show(outcome.ok, outcome.message);
    } catch (error) {
      show(false, "The page could not reach chatbot live: is it still running?");
    }
  });

  const stream = new EventSource("/stream");
  stream.addEventListener("snapshot", (message) => apply(JSON.parse(message.data)));
  stream.addEventListener("clock", (message) => setClock(JSON.parse(message.data)));
  stream.addEventListener("gone", (message) => {
    stream.close();
    byId("live").hidden = true;
    show(false, JSON.parse(message.data).message);
  });
  stream.addEventListener("open", () => { byId("live").hidden = false; });
  stream.addEventListener("error", () => { byId("live").hidden = true; });
})();
