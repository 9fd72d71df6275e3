// The deck editor (client/templates/editor/page.html): the outline, the selected activity's form built from its
// kind's JSON schema (/present/kinds.json), previews from /present/decks/preview, and autosave through the deck's
// source.json with the version each save was based on. Loaded only on editor pages; no library, no inline code.

const root = document.getElementById("editor");
const $ = (id) => document.getElementById(id);
const CSRF = root.dataset.csrf;
const CAN_EDIT = root.dataset.canEdit === "true";
const SAVE_DELAY = 800;
const PREVIEW_DELAY = 300;
const MAX_RETRY = 30000;

// What the editor says, in the page's language: the server renders the catalogue's messages into the page as a JSON
// data block (editor/page.html; the CSP allows no inline script). `{name}` placeholders; a pair is [one, other].
const MESSAGES = JSON.parse($("editor-messages").textContent);
const LANG = document.documentElement.lang || "en";
function t(key, values = {}) {
  let text = MESSAGES[key];
  if (Array.isArray(text)) text = text[values.count === 1 ? 0 : 1];
  if (typeof text !== "string") text = key;
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
}
// A list's label as the noun of one of its items ("Options" gives "option"): English words only; another language
// keeps the label as it is, and its messages are written around it.
const noun = (label) => (LANG.split("-")[0] === "en" ? label.toLowerCase().replace(/s$/, "") : label);

const state = {
  palette: null,
  kinds: new Map(),
  doc: null,
  version: 0,
  selected: 0,
  language: "en", // the language whose texts the form edits
  problems: [],
  changes: 0, // bumped by every edit; a save knows which edit it carried
  savedChanges: 0,
  inFlight: false,
  saveTimer: 0,
  retry: 1000,
  conflict: null,
  undo: null,
  previewSeq: 0,
  previewTimer: 0,
};
const keys = new WeakMap(); // activity object -> a stable key, so focus follows a row across re-renders
let nextKey = 1;
const keyOf = (activity) => {
  if (!keys.has(activity)) keys.set(activity, `a${nextKey++}`);
  return keys.get(activity);
};

// --- small helpers -------------------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function announce(text) {
  const announcer = $("announcer");
  announcer.textContent = "";
  window.setTimeout(() => { announcer.textContent = text; }, 30);
}

function status(text, kind = "") {
  const line = $("save-status");
  line.textContent = text;
  line.className = `save-status ${kind}`;
}

const clock = (date) => date.toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit" });
const humanise = (key) => (key.charAt(0).toUpperCase() + key.slice(1)).replaceAll("_", " ");
const fieldId = (path) => "f-" + path.replace(/[^A-Za-z0-9]+/g, "-");

function resolve(schema, defs) {
  // A property's schema with references followed and an optional (X | null) unwrapped.
  let node = schema || {};
  let optional = false;
  if (node.allOf && node.allOf.length === 1) node = { ...node.allOf[0], ...node, allOf: undefined };
  if (node.anyOf) {
    const others = node.anyOf.filter((one) => one.type !== "null");
    optional = others.length < node.anyOf.length;
    if (others.length === 1) node = { ...others[0], ...node, anyOf: undefined };
  }
  if (node.$ref) {
    const name = node.$ref.split("/").pop();
    node = { ...(defs || {})[name], ...node, $ref: undefined, refName: name };
  }
  return { node, optional };
}

const isImage = (node) => Boolean(node.properties && node.properties.media && node.properties.alt);

// --- texts in several languages ----------------------------------------------------------------------------------

function deckLanguage() { return state.doc.language || "en"; }

function textIn(value, language) {
  if (value && typeof value === "object") return typeof value[language] === "string" ? value[language] : "";
  if (typeof value === "string") return language === deckLanguage() ? value : "";
  return "";
}

function withText(value, language, text) {
  const own = deckLanguage();
  if ((!value || typeof value !== "object") && language === own) return text;
  const mapping = value && typeof value === "object" ? { ...value } : { [own]: typeof value === "string" ? value : "" };
  if (text === "" && language !== own) delete mapping[language];
  else mapping[language] = text;
  const languages = Object.keys(mapping);
  return languages.length === 1 && languages[0] === own ? mapping[own] : mapping;
}

function languagesInUse() {
  const found = new Set([deckLanguage()]);
  const look = (value) => {
    if (Array.isArray(value)) value.forEach(look);
    else if (value && typeof value === "object" && !("media" in value)) Object.keys(value).forEach((k) => found.add(k));
  };
  for (const activity of state.doc.activities || []) {
    look(activity.title); look(activity.prompt);
    const kind = state.kinds.get(activity.kind);
    for (const key of kind ? kind.translatable : []) look(activity[key]);
  }
  if (state.language) found.add(state.language);
  return [...found];
}

// --- problems ----------------------------------------------------------------------------------------------------

function normalPath(path) { return String(path || "").replace(/\.(\d+)(?=\.|$)/g, "[$1]"); }

const PLAIN = [
  [/^List should have at least (\d+) items?.*/, (m) => `needs at least ${m[1]}`],
  [/^List should have at most (\d+) items?.*/, (m) => `may have at most ${m[1]}`],
  [/^String should have at least (\d+) characters?/, () => "is empty"],
  [/^String should have at most (\d+) characters?/, (m) => `may have at most ${m[1]} characters`],
  [/^Input should be greater than or equal to (-?\d+)/, (m) => `must be ${m[1]} or more`],
  [/^Input should be less than or equal to (-?\d+)/, (m) => `must be ${m[1]} or less`],
  [/^Input should be a valid integer.*/, () => "must be a whole number"],
  [/^Input should be a valid (string|list|boolean).*/, () => "is not filled in the right way"],
  [/^Field required/, () => "is required"],
  [/^Extra inputs are not permitted/, () => "is not a setting of this kind"],
  [/^String should match pattern.*/, () => "is not an uploaded image"],
];

function plainMessage(message) {
  for (const [pattern, say] of PLAIN) {
    const match = pattern.exec(message);
    if (match) return say(match);
  }
  return message;
}

function problemsAt(prefix) {
  return state.problems.filter((p) => {
    const path = normalPath(p.path);
    return path === prefix || path.startsWith(prefix + ".") || path.startsWith(prefix + "[");
  });
}

function activityIndexOf(path) {
  const match = /^activities\[(\d+)\]/.exec(normalPath(path));
  return match ? Number(match[1]) : -1;
}

function labelOf(activity) {
  const kind = state.kinds.get(activity.kind);
  return kind ? kind.label : activity.kind;
}

function titleOf(activity) { return textIn(activity.title, deckLanguage()) || t("no_title"); }

function fieldName(key, index) {
  // A field as its form names it (its label, in the page's language), else its key made readable.
  const activity = index >= 0 ? state.doc.activities[index] : null;
  const kind = activity ? state.kinds.get(activity.kind) : null;
  const schemas = activity ? [state.palette.activity, kind && kind.schema] : [state.palette.deck];
  for (const schema of schemas) {
    const property = schema && schema.properties && schema.properties[key];
    if (property && property.label) return property.label;
  }
  return (state.palette.fields || {})[key] || humanise(key);
}

function renderProblems() {
  const list = $("problems-list");
  list.replaceChildren();
  for (const problem of state.problems) {
    const index = activityIndexOf(problem.path);
    const where = index >= 0 && state.doc.activities[index]
      ? `${labelOf(state.doc.activities[index])} ‘${titleOf(state.doc.activities[index])}’`
      : t("deck");
    const path = normalPath(problem.path);
    const field = path.replace(/^activities\[\d+\]\.?/, "");
    const what = field ? fieldName(field.split(/[.[]/)[0], index) : "";
    const link = el("a", { href: "#" + fieldId(path), text: `${where}: ${what ? what + ": " : ""}${plainMessage(problem.message)}` });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      if (index >= 0) select(index);
      window.setTimeout(() => focusPath(path), 0);
    });
    list.append(el("li", {}, link));
  }
  const count = state.problems.length;
  $("problems-summary").hidden = count === 0;
  $("problems-heading").textContent = t("problems", { count });
  const start = $("start-session");
  const unsaved = state.changes !== state.savedChanges;
  start.disabled = count > 0 || unsaved || !(state.doc.activities || []).length;
  $("start-reason").textContent = count > 0
    ? t("fix_to_start", { count })
    : unsaved ? t("wait_for_save") : !(state.doc.activities || []).length ? t("add_first") : "";
}

function focusPath(path) {
  let at = path;
  while (at) {
    const field = document.getElementById(fieldId(at));
    if (field) { field.focus(); return; }
    at = at.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
    if (!/[.[]/.test(at)) break;
  }
  const first = document.querySelector("[aria-invalid=true]");
  if (first) first.focus();
}

function markField(control, path, describe) {
  // The problems of `path` shown under its field, linked from the control.
  const found = state.problems.filter((p) => normalPath(p.path) === path);
  if (!found.length) return null;
  const id = fieldId(path) + "-error";
  control.setAttribute("aria-invalid", "true");
  describe.push(id);
  return el("p", { id, class: "field-error", text: found.map((p) => plainMessage(p.message)).join("; ") });
}

// --- the form: one field per schema property ---------------------------------------------------------------------

function describedField(label, control, path, help, extra = []) {
  const describe = [];
  const parts = [];
  if (help) {
    const helpId = fieldId(path) + "-help";
    parts.push(el("p", { id: helpId, class: "field-help", text: help }));
    describe.push(helpId);
  }
  const error = markField(control, path, describe);
  if (describe.length) control.setAttribute("aria-describedby", describe.join(" "));
  return el("div", { class: "field" + (error ? " invalid" : "") }, label, ...extra, control, ...parts, error);
}

function textField({ path, label, value, onInput, multiline, maxLength, help, placeholder, disabled }) {
  const id = fieldId(path);
  const control = multiline
    ? el("textarea", { id, rows: multiline === "markdown" ? 8 : 3, maxlength: maxLength, placeholder, disabled })
    : el("input", { id, type: "text", maxlength: maxLength, placeholder, disabled, autocomplete: "off" });
  control.value = value;
  control.addEventListener("input", () => onInput(control.value));
  // A Markdown field says how to write it, unless its kind's description already does.
  const hint = multiline === "markdown" && !/markdown/i.test(help || "") ? t("markdown_hint") : "";
  return describedField(el("label", { for: id, text: label }), control, path, hint + (help || ""));
}

function numberField({ path, label, value, node, optional, onInput, help }) {
  const id = fieldId(path);
  const control = el("input", { id, type: "number", inputmode: "numeric", step: 1, min: node.minimum, max: node.maximum });
  control.value = value === null || value === undefined ? "" : String(value);
  if (optional) control.placeholder = t("none");
  control.addEventListener("input", () => {
    const text = control.value.trim();
    if (text === "") onInput(optional ? null : undefined);
    else if (/^-?\d+$/.test(text)) onInput(Number(text));
  });
  const bounds = node.minimum !== undefined && node.maximum !== undefined ? t("from_to", { min: node.minimum, max: node.maximum }) : "";
  const said = [help, bounds, optional && !(help || "").toLowerCase().includes(t("blank_word")) ? t("blank_none") : ""].filter(Boolean);
  return describedField(el("label", { for: id, text: label }), control, path, said.map((t) => t.replace(/([^.)])$/, "$1.")).join(" "));
}

function checkField({ path, label, value, onInput, help }) {
  const id = fieldId(path);
  const control = el("input", { id, type: "checkbox" });
  control.checked = Boolean(value);
  control.addEventListener("change", () => onInput(control.checked));
  const describe = [];
  const parts = [];
  if (help) {
    parts.push(el("p", { id: id + "-help", class: "field-help", text: help }));
    describe.push(id + "-help");
  }
  const error = markField(control, path, describe);
  if (describe.length) control.setAttribute("aria-describedby", describe.join(" "));
  return el("div", { class: "field" + (error ? " invalid" : "") }, el("div", { class: "check" }, control, el("label", { for: id, text: label })), ...parts, error);
}

function choiceField({ path, label, value, options, labels, onInput, help }) {
  const id = fieldId(path);
  const control = el("select", { id });
  for (const option of options) {
    const named = (labels && labels[option]) || (String(option).length <= 3 ? String(option) : humanise(String(option)));
    const item = el("option", { value: option, text: named });
    if (option === value) item.selected = true;
    control.append(item);
  }
  control.addEventListener("change", () => onInput(control.value));
  return describedField(el("label", { for: id, text: label }), control, path, help);
}

function checksField({ path, label, value, options, onInput, help }) {
  const chosen = new Set(value || []);
  const group = el("fieldset", { id: fieldId(path), class: "checks", tabindex: -1 }, el("legend", { text: label }));
  for (const option of options) {
    const id = fieldId(`${path}-${option}`);
    const box = el("input", { id, type: "checkbox", value: option });
    box.checked = chosen.has(option);
    box.addEventListener("change", () => {
      if (box.checked) chosen.add(option); else chosen.delete(option);
      onInput(options.filter((o) => chosen.has(o)));
    });
    group.append(el("span", { class: "check" }, box, el("label", { for: id, text: option })));
  }
  if (help) group.append(el("p", { class: "field-help", text: help }));
  return group;
}

function listField({ path, label, items, node, onChange, translate, images, help }) {
  // An editable list of texts: add, remove, move; each item an input (with an image slot when the kind has one).
  const min = node.minItems || 0;
  const max = node.maxItems || 100;
  const other = state.language !== deckLanguage() && translate;
  const group = el("fieldset", { class: "list-field", id: fieldId(path), tabindex: -1 });
  group.append(el("legend", { text: min || node.maxItems ? t("list_legend", { label, min, max }) : label }));
  const describe = [];
  const error = markField(group, path, describe);
  if (help) group.append(el("p", { class: "field-help", text: help }));
  const list = el("ol", { class: "list-items" });
  const values = items.slice();
  values.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    const id = fieldId(itemPath);
    const shown = translate ? textIn(item, state.language) : String(item);
    const input = el("input", { id, type: "text", autocomplete: "off", "aria-label": t("item_label", { label, number: i + 1 }) });
    input.value = shown;
    if (other) input.placeholder = textIn(item, deckLanguage());
    else input.placeholder = t("item_placeholder", { item: humanise(noun(label)), number: i + 1 });
    input.addEventListener("input", () => {
      values[i] = translate ? withText(values[i], state.language, input.value) : input.value;
      onChange(values.slice(), null);
    });
    const itemErrors = [];
    const itemError = markField(input, itemPath, itemErrors);
    if (error && !shown.trim()) { // the list's problem is an empty item ("an option is empty"): this one
      input.setAttribute("aria-invalid", "true");
      itemErrors.push(error.id);
    }
    if (itemErrors.length) input.setAttribute("aria-describedby", itemErrors.join(" "));
    const buttons = other ? [] : [
      el("button", { type: "button", class: "small", "aria-label": t("move_item_up", { item: noun(label), number: i + 1 }), disabled: i === 0,
        onclick: () => onChange(moved(values, i, i - 1), ["move", i, i - 1]) }, "↑"),
      el("button", { type: "button", class: "small", "aria-label": t("move_item_down", { item: noun(label), number: i + 1 }), disabled: i === values.length - 1,
        onclick: () => onChange(moved(values, i, i + 1), ["move", i, i + 1]) }, "↓"),
      el("button", { type: "button", class: "small", "aria-label": t("remove_item", { item: noun(label), number: i + 1 }), disabled: values.length <= min,
        onclick: () => onChange(values.filter((_, j) => j !== i), ["remove", i]) }, t("remove")),
    ];
    const slot = images ? images(i) : null;
    list.append(el("li", { class: "list-item" + (itemError ? " invalid" : "") }, el("span", { class: "item-row" }, input, ...buttons), slot, itemError));
  });
  group.append(list);
  if (!other) {
    group.append(el("button", { type: "button", class: "small add-item", disabled: values.length >= max,
      onclick: () => onChange([...values, ""], ["add"]) }, t("add_item", { item: noun(label) })));
  }
  if (error) group.append(error);
  return group;
}

// --- lists of records: a kind's list of small objects (the pin kind's areas), one fieldset per record --------------

const isRecord = (node) => node.type === "object" && Boolean(node.properties) && !isImage(node)
  && Object.values(node.properties).every((p) => ["string", "number", "integer"].includes(p.type));

function recordsField({ path, label, items, node, item, help, onChange }) {
  // Each record's properties as fields (texts, and numbers that may have decimals), with add and remove.
  const max = node.maxItems || 100;
  const records = items.map((record) => ({ ...record }));
  const one = noun(label);
  const group = el("fieldset", { class: "list-field records-field", id: fieldId(path), tabindex: -1 },
    el("legend", { text: node.maxItems ? t("records_legend", { label, max }) : label }));
  const describe = [];
  const error = markField(group, path, describe);
  if (help) group.append(el("p", { class: "field-help", text: help }));
  const list = el("ol", { class: "list-items" });
  records.forEach((record, i) => {
    const recordPath = `${path}[${i}]`;
    const box = el("fieldset", { class: "record", id: fieldId(recordPath), tabindex: -1 },
      el("legend", { text: t("item_placeholder", { item: humanise(one), number: i + 1 }) }));
    for (const [key, property] of Object.entries(item.properties)) {
      const fieldPath = `${recordPath}.${key}`;
      const name = property.label || property.title || humanise(key);
      if (property.type === "string") {
        box.append(textField({ path: fieldPath, label: name, value: record[key] || "", maxLength: property.maxLength,
          help: property.description, onInput: (text) => { records[i][key] = text; onChange(records, false); } }));
        continue;
      }
      const id = fieldId(fieldPath);
      const control = el("input", { id, type: "text", inputmode: "decimal", autocomplete: "off" });
      control.value = record[key] === undefined || record[key] === null ? "" : String(record[key]);
      control.addEventListener("input", () => {
        const text = control.value.trim().replace(",", ".");
        if (text === "") delete records[i][key];
        else records[i][key] = /^-?\d*\.?\d+$/.test(text) ? Number(text) : text; // a non-number is refused by the server
        onChange(records, false);
      });
      box.append(describedField(el("label", { for: id, text: name }), control, fieldPath, property.description));
    }
    box.append(el("button", { type: "button", class: "small", "aria-label": t("remove_item", { item: one, number: i + 1 }),
      onclick: () => onChange(records.filter((_, j) => j !== i), true) }, t("remove")));
    list.append(el("li", { class: "list-item" }, box));
  });
  group.append(list);
  const blank = Object.fromEntries(Object.entries(item.properties).map(([key, p]) => [key, p.type === "string" ? "" : 0]));
  group.append(el("button", { type: "button", class: "small add-item", disabled: records.length >= max,
    onclick: () => onChange([...records, blank], true) }, t("add_item", { item: one })));
  if (error) group.append(error);
  return group;
}

function moved(values, from, to) {
  const copy = values.slice();
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item);
  return copy;
}

function imageField({ path, label, value, onChange }) {
  // An uploaded image: upload (POST /present/media), a thumbnail, its required alt text, remove.
  const id = fieldId(path);
  const box = el("div", { class: "image-field", id: id + "-box" });
  const file = el("input", { id, type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", class: "file-input" });
  const message = el("p", { class: "field-help", role: "status" });
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    message.textContent = t("uploading");
    const form = new FormData();
    form.append("file", file.files[0]);
    try {
      const response = await fetch(root.dataset.media, { method: "POST", body: form, headers: { "X-CSRF-Token": CSRF } });
      const body = await response.json();
      if (!response.ok) { message.textContent = t("not_uploaded", { reason: body.detail || body.title }); return; }
      onChange({ media: body.media, alt: value ? value.alt : "" }, true);
    } catch (error) {
      message.textContent = t("not_uploaded_offline");
    }
  });
  box.append(el("label", { for: id, text: value ? t("replace_image", { item: noun(label) }) : t("upload_image", { item: noun(label) }) }), file, message);
  if (value && value.media) {
    const altId = fieldId(path + ".alt");
    const alt = el("input", { id: altId, type: "text", maxlength: 300, required: true, autocomplete: "off" });
    alt.value = value.alt || "";
    alt.addEventListener("input", () => onChange({ media: value.media, alt: alt.value }, false));
    box.append(
      el("img", { class: "thumbnail", src: `/media/${value.media}`, alt: "" }),
      describedField(el("label", { for: altId, text: t("alt_label") }), alt, path + ".alt"),
      el("button", { type: "button", class: "small", onclick: () => onChange(null, true) }, t("remove_image", { item: noun(label) })),
    );
  }
  const errors = [];
  const error = markField(file, path, errors);
  if (error) box.append(error);
  return el("div", { class: "field" }, box);
}

function schemaField(key, property, defs, activity, path, kind, allProperties) {
  // One setting of a kind, as its JSON schema describes it.
  const { node, optional } = resolve(property, defs);
  const label = node.label || humanise(key);
  const help = node.description;
  const value = activity[key] !== undefined ? activity[key] : node.default;
  const set = (next, rerender = true) => {
    if (next === undefined) delete activity[key]; else activity[key] = next;
    changed(rerender);
  };
  const translate = kind && kind.translatable.includes(key);
  const other = state.language !== deckLanguage();
  if (other && !translate) return null;
  if (isImage(node)) return imageField({ path, label, value, onChange: (next, again) => set(next, again) });
  if (node.type === "array") {
    const { node: item } = resolve(node.items, defs);
    if (isImage(item)) return null; // an image per item: shown in the list it goes with
    if (item.enum) return checksField({ path, label, value: value || [], options: item.enum, help, onInput: (v) => set(v, false) });
    if (isRecord(item)) return recordsField({ path, label, items: value || [], node, item, help, onChange: (next, again) => set(next.length ? next : undefined, again) });
    const pairedKey = Object.keys(allProperties).find((other) => {
      const { node: list } = resolve(allProperties[other], defs);
      return list.type === "array" && isImage(resolve(list.items, defs).node) && (list.parallel === key || !list.parallel);
    });
    const images = pairedKey ? (i) => {
      const slots = (activity[pairedKey] || []).slice();
      return imageField({ path: `${path.replace(/[^.]+$/, pairedKey)}[${i}]`, label: t("image"), value: slots[i] || null,
        onChange: (next, again) => {
          while (slots.length <= i) slots.push(null);
          slots[i] = next;
          activity[pairedKey] = slots.some(Boolean) ? slots : undefined;
          if (!activity[pairedKey]) delete activity[pairedKey];
          changed(again);
        } });
    } : null;
    return listField({ path, label, items: value || [], node, translate, help, images, onChange: (next, op) => {
      activity[key] = next;
      if (pairedKey && op && activity[pairedKey]) activity[pairedKey] = parallelOp(activity[pairedKey], op, next.length);
      changed(Boolean(op));
      if (op) window.setTimeout(() => focusAfterListOp(path, op, next.length), 0);
    } });
  }
  if (node.enum) return choiceField({ path, label, value, options: node.enum, labels: node.labels, help, onInput: (v) => set(v, false) });
  if (node.type === "boolean") return checkField({ path, label, value, help, onInput: (v) => set(v, false) });
  if (node.type === "integer" || node.type === "number") {
    return numberField({ path, label, value, node, optional, help, onInput: (v) => set(v, false) });
  }
  const multiline = node.widget === "markdown" ? "markdown" : node.widget === "textarea";
  if (translate || key === "title" || key === "prompt") {
    return textField({ path, label, value: textIn(value, state.language), multiline, maxLength: node.maxLength, help,
      placeholder: other ? textIn(value, deckLanguage()) : undefined,
      onInput: (text) => set(withText(activity[key], state.language, text), false) });
  }
  return textField({ path, label, value: value === undefined || value === null ? "" : String(value), multiline, maxLength: node.maxLength,
    help, onInput: (text) => set(text, false) });
}

function parallelOp(slots, op, length) {
  let next = slots.slice();
  if (op[0] === "move") next = moved(next, op[1], op[2]);
  if (op[0] === "remove") next.splice(op[1], 1);
  while (next.length < length) next.push(null);
  return next.slice(0, length);
}

function focusAfterListOp(path, op, length) {
  const index = op[0] === "move" ? op[2] : op[0] === "add" ? length - 1 : Math.min(op[1], length - 1);
  const target = document.getElementById(fieldId(`${path}[${index}]`));
  if (target) target.focus();
  if (op[0] === "move") announce(t("moved_to", { position: index + 1, count: length }));
}

function renderDeckFields() {
  const box = $("deck-fields");
  const schema = state.palette.deck;
  const doc = state.doc;
  box.replaceChildren();
  const deckField = (key) => schemaField(key, schema.properties[key], schema.$defs, doc, key, null, {});
  const saved = state.language;
  state.language = deckLanguage(); // deck settings are in the deck's language
  for (const key of ["title", "description", "pace", "language"]) {
    const field = deckField(key);
    if (field) box.append(field);
  }
  box.append(filterFields(doc, "filter", null));
  state.language = saved;
  lock(box);
  const title = box.querySelector("#" + fieldId("title"));
  if (title) title.addEventListener("input", () => { $("topbar-title").textContent = title.value; });
}

function filterFields(holder, path, base) {
  // The profanity filter: on or off, the word lists, and extra words.
  const schema = state.palette.filter;
  const current = { profanity: true, languages: ["en", "es"], extra_words: [], ...(base || {}), ...(holder.filter || {}) };
  const group = el("fieldset", { class: "filter-fields", id: fieldId(path), tabindex: -1 },
    el("legend", { text: base ? t("filter_activity") : t("filter_deck") }));
  const update = (key, value, again) => {
    holder.filter = { ...(holder.filter || {}), [key]: value };
    changed(again);
  };
  const props = schema.properties;
  group.append(
    checkField({ path: `${path}.profanity`, label: t("filter_hold"), value: current.profanity,
      help: props.profanity.description, onInput: (v) => update("profanity", v, false) }),
    checksField({ path: `${path}.languages`, label: t("word_lists"), value: current.languages,
      options: resolve(props.languages.items, schema.$defs).node.enum || ["en", "es"], onInput: (v) => update("languages", v, false) }),
    listField({ path: `${path}.extra_words`, label: t("extra_words"), items: current.extra_words, node: props.extra_words,
      help: props.extra_words.description, onChange: (next, op) => update("extra_words", next, Boolean(op)) }),
  );
  return group;
}

function renderLanguageBar() {
  const bar = $("language-bar");
  bar.replaceChildren();
  const names = new Map(state.palette.languages.map((l) => [l.code, l.name]));
  const id = "text-language";
  const select = el("select", { id });
  for (const code of new Set([...languagesInUse(), ...names.keys()])) {
    const name = names.get(code) || code;
    select.append(el("option", { value: code, text: code === deckLanguage() ? t("deck_language", { name }) : name }));
  }
  select.value = state.language;
  select.addEventListener("change", () => {
    state.language = select.value;
    renderForm();
    schedulePreview();
    announce(t("editing_in", { name: names.get(select.value) || select.value }));
  });
  bar.append(el("div", { class: "field inline" }, el("label", { for: id, text: t("texts_in") }), select));
  if (state.language !== deckLanguage()) {
    bar.append(el("p", { class: "small", text: t("texts_only") }));
  }
}

function renderForm() {
  const box = $("activity-fields");
  box.replaceChildren();
  renderLanguageBar();
  const activities = state.doc.activities || [];
  const activity = activities[state.selected];
  if (!activity) {
    $("form-heading").textContent = t("no_activity_selected");
    box.append(el("p", { class: "small", text: t("add_from_palette") }));
    return;
  }
  const kind = state.kinds.get(activity.kind);
  const base = `activities[${state.selected}]`;
  $("form-heading").textContent = t("activity_heading", { number: state.selected + 1, kind: kind ? kind.label : activity.kind });
  const common = state.palette.activity;
  for (const key of ["title", "prompt", "notes", "results", "countdown"]) {
    const field = schemaField(key, common.properties[key], common.$defs, activity, `${base}.${key}`, { translatable: ["title", "prompt"] }, {});
    if (field) box.append(field);
  }
  if (state.language === deckLanguage() && kind && kind.takes_free_text) box.append(filterFields(activity, `${base}.filter`, state.doc.filter));
  if (!kind) {
    box.append(el("p", { class: "field-error", text: t("no_such_kind", { kind: activity.kind }) }));
    return;
  }
  const schema = kind.schema;
  const settings = el("fieldset", { class: "kind-settings" }, el("legend", { text: t("kind_settings", { kind: kind.label }) }));
  for (const [key, property] of Object.entries(schema.properties || {})) {
    const field = schemaField(key, property, schema.$defs, activity, `${base}.${key}`, kind, schema.properties);
    if (field) settings.append(field);
  }
  if (settings.children.length > 1) box.append(settings);
  lock(box);
}

// --- the outline -----------------------------------------------------------------------------------------------

function renderOutline(focusKey) {
  const list = $("activity-list");
  list.replaceChildren();
  const activities = state.doc.activities || [];
  $("empty-outline").hidden = activities.length > 0;
  activities.forEach((activity, i) => {
    const key = keyOf(activity);
    const found = problemsAt(`activities[${i}]`).length;
    const name = titleOf(activity);
    const main = el("button", { type: "button", class: "row-main", "data-key": key, "aria-current": i === state.selected ? "true" : false,
      "aria-keyshortcuts": CAN_EDIT ? "Alt+ArrowUp Alt+ArrowDown" : false, onclick: () => select(i) },
      el("span", { class: "row-number", text: `${i + 1}.` }),
      el("span", { class: "row-text" }, el("span", { class: "row-kind", text: labelOf(activity) }), el("span", { class: "row-title", text: name })),
      found ? el("span", { class: "badge", text: t("problems", { count: found }) }) : null);
    const tools = CAN_EDIT ? el("span", { class: "row-tools" },
      el("button", { type: "button", class: "small", "aria-label": t("move_up", { title: name }), "data-move": "up", disabled: i === 0, onclick: () => move(i, i - 1, "up") }, "↑"),
      el("button", { type: "button", class: "small", "aria-label": t("move_down", { title: name }), "data-move": "down", disabled: i === activities.length - 1, onclick: () => move(i, i + 1, "down") }, "↓"),
      el("button", { type: "button", class: "small", "aria-label": t("duplicate_title", { title: name }), onclick: () => duplicate(i) }, t("duplicate")),
      el("button", { type: "button", class: "small danger", "aria-label": t("delete_title", { title: name }), onclick: () => remove(i) }, t("delete"))) : null;
    const row = el("li", { class: "outline-row" + (i === state.selected ? " selected" : "") + (found ? " has-problems" : ""),
      draggable: CAN_EDIT ? "true" : false, "data-index": i }, el("span", { class: "grip", "aria-hidden": "true", text: "⋮⋮" }), main, tools);
    if (CAN_EDIT) wireDrag(row, i);
    list.append(row);
  });
  if (focusKey) {
    const target = list.querySelector(`[data-key="${focusKey}"]`);
    if (target) target.focus();
  }
}

function wireDrag(row, index) {
  row.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("text/plain", String(index));
    event.dataTransfer.effectAllowed = "move";
    row.classList.add("dragging");
  });
  row.addEventListener("dragend", () => row.classList.remove("dragging"));
  row.addEventListener("dragover", (event) => { event.preventDefault(); row.classList.add("drop-target"); });
  row.addEventListener("dragleave", () => row.classList.remove("drop-target"));
  row.addEventListener("drop", (event) => {
    event.preventDefault();
    row.classList.remove("drop-target");
    const from = Number(event.dataTransfer.getData("text/plain"));
    if (Number.isInteger(from) && from !== index) move(from, index, null);
  });
}

function select(index) {
  state.selected = index;
  renderOutline();
  renderForm();
  schedulePreview(0);
}

function move(from, to, direction) {
  const activities = state.doc.activities;
  if (to < 0 || to >= activities.length) return;
  const activity = activities[from];
  state.doc.activities = moved(activities, from, to);
  state.selected = to;
  remapProblems((i) => (i === from ? to : from < to && i > from && i <= to ? i - 1 : from > to && i >= to && i < from ? i + 1 : i));
  renderOutline(keyOf(activity));
  renderForm();
  changed(false);
  announce(t("moved_title", { title: titleOf(activity), position: to + 1, count: activities.length }));
  if (direction) {
    const button = document.querySelector(`.outline-row[data-index="${to}"] button[data-move="${direction}"]`);
    if (button && !button.disabled) button.focus();
  }
}

function remapProblems(map) {
  state.problems = state.problems.map((p) => {
    const index = activityIndexOf(p.path);
    return index < 0 ? p : { ...p, path: normalPath(p.path).replace(/^activities\[\d+\]/, `activities[${map(index)}]`) };
  });
}

function duplicate(index) {
  const copy = JSON.parse(JSON.stringify(state.doc.activities[index]));
  state.doc.activities.splice(index + 1, 0, copy);
  remapProblems((i) => (i > index ? i + 1 : i));
  state.selected = index + 1;
  renderOutline(keyOf(copy));
  renderForm();
  changed(false);
  announce(t("duplicated", { title: titleOf(copy), number: index + 2 }));
}

function remove(index) {
  const [gone] = state.doc.activities.splice(index, 1);
  state.undo = { activity: gone, index };
  state.problems = state.problems.filter((p) => activityIndexOf(p.path) !== index);
  remapProblems((i) => (i > index ? i - 1 : i));
  state.selected = Math.max(0, Math.min(index, state.doc.activities.length - 1));
  renderOutline();
  renderForm();
  changed(false);
  $("undo-text").textContent = t("deleted", { title: titleOf(gone) });
  $("undo-bar").hidden = false;
  $("undo").focus();
  announce(t("deleted_undo", { title: titleOf(gone) }));
}

function undo() {
  if (!state.undo) return;
  const { activity, index } = state.undo;
  state.doc.activities.splice(index, 0, activity);
  remapProblems((i) => (i >= index ? i + 1 : i));
  state.undo = null;
  $("undo-bar").hidden = true;
  state.selected = index;
  renderOutline(keyOf(activity));
  renderForm();
  changed(false);
  announce(t("brought_back", { title: titleOf(activity), position: index + 1 }));
}

function newActivity(kind) {
  // A new activity of `kind`: its required settings present (lists with as many empty items as they need).
  const activity = { kind: kind.name, title: "" };
  const schema = kind.schema;
  for (const key of schema.required || []) {
    const { node } = resolve(schema.properties[key], schema.$defs);
    if (node.type === "array") activity[key] = Array(Math.max(node.minItems || 1, 1)).fill("");
    else if (node.type === "integer" || node.type === "number") activity[key] = node.minimum || 0;
    else if (node.type === "boolean") activity[key] = false;
    else if (node.enum) activity[key] = node.enum[0];
    else if (!isImage(node)) activity[key] = "";
  }
  return activity;
}

function add(kind) {
  const activities = state.doc.activities || (state.doc.activities = []);
  const at = activities.length ? state.selected + 1 : 0;
  const activity = newActivity(kind);
  activities.splice(at, 0, activity);
  remapProblems((i) => (i >= at ? i + 1 : i));
  state.selected = at;
  closePalette();
  renderOutline();
  renderForm();
  changed(false);
  announce(t("added", { kind: kind.label, number: at + 1 }));
  const title = document.getElementById(fieldId(`activities[${at}].title`));
  if (title) title.focus();
}

function renderPalette() {
  const list = $("palette-list");
  list.replaceChildren();
  for (const kind of state.palette.kinds) {
    list.append(el("li", {}, el("button", { type: "button", class: "palette-kind", "data-kind": kind.name, onclick: () => add(kind) },
      el("strong", { text: kind.label }), el("span", { class: "small", text: kind.description }))));
  }
}

function openPalette() {
  $("palette").hidden = false;
  $("add-activity").setAttribute("aria-expanded", "true");
  const first = $("palette-list").querySelector("button");
  if (first) first.focus();
}

function closePalette(focusButton = false) {
  $("palette").hidden = true;
  $("add-activity").setAttribute("aria-expanded", "false");
  if (focusButton) $("add-activity").focus();
}

// --- autosave --------------------------------------------------------------------------------------------------

function changed(rerender) {
  state.changes += 1;
  if (rerender) { renderForm(); }
  refreshOutlineText();
  renderProblems();
  schedulePreview();
  if (!CAN_EDIT) return;
  status(t("not_saved_yet"), "pending");
  window.clearTimeout(state.saveTimer);
  state.saveTimer = window.setTimeout(save, SAVE_DELAY);
}

function refreshOutlineText() {
  // Titles in the outline follow typing without rebuilding it (focus stays in the form).
  document.querySelectorAll(".outline-row").forEach((row) => {
    const activity = state.doc.activities[Number(row.dataset.index)];
    if (!activity) return;
    const title = row.querySelector(".row-title");
    if (title) title.textContent = titleOf(activity);
  });
}

async function save() {
  if (!CAN_EDIT || state.conflict) return;
  if (state.inFlight) { state.again = true; return; }
  const carried = state.changes;
  if (carried === state.savedChanges) return;
  state.inFlight = true;
  status(t("saving"), "pending");
  let response;
  try {
    response = await fetch(root.dataset.source, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify({ version: state.version, document: state.doc }),
    });
  } catch (error) {
    state.inFlight = false;
    retryLater(t("offline_retrying"));
    return;
  }
  state.inFlight = false;
  let body = {};
  try { body = await response.json(); } catch (error) { body = {}; }
  if (response.ok) {
    state.version = body.version;
    state.retry = 1000;
    state.savedChanges = carried;
    state.problems = body.problems || [];
    renderOutline();
    renderFormProblems();
    renderProblems();
    if (state.changes !== carried || state.again) {
      state.again = false;
      window.clearTimeout(state.saveTimer);
      state.saveTimer = window.setTimeout(save, SAVE_DELAY);
    }
    const at = body.saved_at ? new Date(body.saved_at) : new Date();
    status(state.changes === carried ? t("saved_at", { time: clock(at) }) : t("saving"), state.changes === carried ? "ok" : "pending");
    return;
  }
  if (response.status === 409) { openConflict(body); return; }
  if (response.status >= 500 || response.status === 429) { retryLater(t("busy_retrying")); return; }
  const reason = response.status === 403 ? t("view_only") : body.detail || body.title || t("error_status", { status: response.status });
  status(t("not_saved", { reason }), "error");
}

function retryLater(text) {
  status(text, "error");
  window.clearTimeout(state.saveTimer);
  state.saveTimer = window.setTimeout(save, state.retry);
  state.retry = Math.min(state.retry * 2, MAX_RETRY);
}

function renderFormProblems() {
  // New problems from a save: re-mark the form's fields without rebuilding the field being typed in.
  const active = document.activeElement;
  const activeId = active && active.id;
  const start = active && "selectionStart" in active ? [active.selectionStart, active.selectionEnd] : null;
  renderForm();
  if (activeId) {
    const again = document.getElementById(activeId);
    if (again) {
      again.focus();
      if (start && "setSelectionRange" in again) { try { again.setSelectionRange(start[0], start[1]); } catch (error) { /* not text */ } }
    }
  }
}

function yamlOf(value, indent = "") {
  // The document as YAML (JSON's strings are YAML's double-quoted ones), for a copy to keep.
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return value.map((item) => `\n${indent}- ${yamlOf(item, indent + "  ").replace(/^\n\s*/, "")}`).join("");
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (!entries.length) return "{}";
    return entries.map(([k, v]) => `\n${indent}${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : JSON.stringify(k)}: ${yamlOf(v, indent + "  ")}`).join("");
  }
  return JSON.stringify(value === undefined ? null : value);
}

function openConflict(body) {
  state.conflict = body;
  const when = body.updated_at || body.saved_at;
  const who = body.by || t("someone");
  $("conflict-text").textContent = when ? t("conflict_at", { who, time: clock(new Date(when)) }) : t("conflict", { who });
  $("mine-copy").hidden = true;
  status(t("not_saved_conflict"), "error");
  const dialog = $("conflict-dialog");
  if (!dialog.open) dialog.showModal();
  $("keep-mine").focus();
}

function keepMine() {
  state.version = state.conflict.version;
  state.conflict = null;
  $("conflict-dialog").close();
  state.changes += 1;
  save();
}

function showMine() {
  $("mine-yaml").value = yamlOf(state.doc).replace(/^\n/, "") + "\n";
  $("mine-copy").hidden = false;
  $("mine-yaml").focus();
  $("mine-yaml").select();
}

function takeTheirs() {
  const theirs = state.conflict;
  state.conflict = null;
  $("conflict-dialog").close();
  state.doc = theirs.document || { title: "", activities: [] };
  state.version = theirs.version;
  state.savedChanges = state.changes;
  state.problems = theirs.problems || [];
  state.selected = Math.min(state.selected, Math.max(0, (state.doc.activities || []).length - 1));
  renderAll();
  status(t("showing_theirs"), "ok");
}

// --- previews --------------------------------------------------------------------------------------------------

function schedulePreview(delay = PREVIEW_DELAY) {
  window.clearTimeout(state.previewTimer);
  state.previewTimer = window.setTimeout(preview, delay);
}

async function preview() {
  const activities = state.doc.activities || [];
  const note = $("preview-note");
  if (!activities.length) {
    $("phone-preview").srcdoc = "";
    $("projector-preview").srcdoc = "";
    note.textContent = t("preview_empty");
    return;
  }
  const seq = ++state.previewSeq;
  let body;
  try {
    const response = await fetch(root.dataset.preview, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify({ document: state.doc, index: state.selected, language: state.language }),
    });
    body = await response.json();
    if (!response.ok) { if (seq === state.previewSeq) note.textContent = t("no_preview", { reason: body.detail || body.title }); return; }
  } catch (error) {
    if (seq === state.previewSeq) note.textContent = t("no_preview_offline");
    return;
  }
  if (seq !== state.previewSeq) return; // a newer preview is on its way
  if (body.problems && body.problems.length) {
    $("phone-preview").srcdoc = "";
    $("projector-preview").srcdoc = "";
    note.textContent = t("no_preview_until", { problems: body.problems.map((p) => plainMessage(p.message)).join("; ") });
    return;
  }
  note.textContent = t("preview_note", { number: state.selected + 1 });
  $("phone-preview").srcdoc = body.phone;
  $("projector-preview").srcdoc = body.projector;
}

function scaleFrames() {
  // Each frame shows its page at full size (a phone's 390 px, the projector's 1280), scaled to the column.
  for (const [box, frame, width, height] of [["phone-box", "phone-preview", 390, 760], ["projector-box", "projector-preview", 1280, 720]]) {
    const holder = document.querySelector("." + box);
    if (!holder) continue;
    const scale = Math.min(1, holder.clientWidth / width);
    const iframe = $(frame);
    iframe.style.transform = `scale(${scale})`;
    holder.style.height = `${Math.ceil(height * scale)}px`;
  }
}

// --- start -------------------------------------------------------------------------------------------------------

function renderAll() {
  renderDeckFields();
  renderOutline();
  renderForm();
  renderProblems();
  schedulePreview(0);
}

function wire() {
  $("add-activity").addEventListener("click", () => ($("palette").hidden ? openPalette() : closePalette()));
  $("palette").addEventListener("keydown", (event) => { if (event.key === "Escape") closePalette(true); });
  $("undo").addEventListener("click", undo);
  $("activity-list").addEventListener("keydown", (event) => {
    if (!CAN_EDIT || !event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    const row = event.target.closest(".outline-row");
    if (!row) return;
    event.preventDefault();
    const from = Number(row.dataset.index);
    move(from, from + (event.key === "ArrowUp" ? -1 : 1), null);
  });
  $("keep-mine").addEventListener("click", keepMine);
  $("take-theirs").addEventListener("click", showMine);
  $("discard-mine").addEventListener("click", takeTheirs);
  $("back-to-mine").addEventListener("click", () => { $("mine-copy").hidden = true; $("take-theirs").focus(); });
  $("conflict-dialog").addEventListener("cancel", (event) => event.preventDefault()); // a choice must be made
  $("fields-form").addEventListener("submit", (event) => event.preventDefault());
  window.addEventListener("beforeunload", (event) => {
    if (CAN_EDIT && (state.changes !== state.savedChanges || state.inFlight)) { event.preventDefault(); event.returnValue = ""; }
  });
  window.addEventListener("online", () => { if (state.changes !== state.savedChanges) save(); });
  window.addEventListener("resize", scaleFrames);
}

function lock(box) {
  // Read only (a template, a deck shared to view): every control shows its value and changes nothing.
  if (CAN_EDIT) return;
  for (const control of box.querySelectorAll("input, select, textarea, button")) control.disabled = true;
}

function wireImport() {
  const button = $("import-slides");
  const slide = state.kinds.get("slide");
  if (!CAN_EDIT || !slide) return;
  button.hidden = false;
  const file = $("slides-file");
  button.addEventListener("click", () => file.click());
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    const progress = $("import-progress");
    const bar = $("import-bar");
    const label = $("import-label");
    progress.hidden = false;
    label.textContent = t("importing");
    bar.removeAttribute("value");
    const form = new FormData();
    form.append("file", file.files[0]);
    file.value = "";
    try {
      const response = await fetch(root.dataset.slides, { method: "POST", body: form, headers: { "X-CSRF-Token": CSRF } });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        label.textContent = t("not_imported", { reason: problem.detail || problem.title || response.status });
        return;
      }
      await readImport(response, bar, label);
    } catch (error) {
      label.textContent = t("not_imported_offline");
    }
  });
}

async function readImport(response, bar, label) {
  // The import's NDJSON lines: how many pages, each page as it is done, then the slides (or one error line).
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let pages = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (!line) continue;
      const message = JSON.parse(line);
      if (message.pages) { pages = message.pages; bar.max = pages; bar.value = 0; label.textContent = t("importing_n", { count: pages }); }
      else if (message.page !== undefined) { bar.value = message.page; label.textContent = t("imported_of", { page: message.page, count: pages }); }
      else if (message.error) { label.textContent = t("not_imported", { reason: message.error }); return; }
      else if (message.slides) { placeSlides(message.slides, message.filename); label.textContent = t("imported_from", { count: message.slides.length, file: message.filename || t("the_file") }); }
    }
  }
}

function placeSlides(slides, filename) {
  const activities = state.doc.activities || (state.doc.activities = []);
  const at = activities.length ? state.selected + 1 : 0;
  // Each page fills the projector (layout image-full: the page is the slide); its alt text says which page of which
  // file it is, and the page's own first line when it has one, so a screen reader hears more than "image".
  const source = filename || t("imported_deck");
  const made = slides.map((slide, i) => {
    const page = t("slide_of", { number: i + 1, file: source });
    const title = slide.title || page;
    const alt = title === page || title === `Slide ${i + 1}` ? page : `${page}: ${title}`;
    return { kind: "slide", title: title.slice(0, 200), layout: "image-full", image: { media: slide.media, alt: alt.slice(0, 300) } };
  });
  activities.splice(at, 0, ...made);
  remapProblems((i) => (i >= at ? i + made.length : i));
  state.selected = at;
  renderOutline();
  renderForm();
  changed(false);
  announce(t("imported_after", { count: made.length, number: at }));
}

async function start() {
  wire();
  try {
    const [palette, source] = await Promise.all([
      fetch(root.dataset.kinds).then((r) => r.json()),
      fetch(root.dataset.source).then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.json(); }),
    ]);
    state.palette = palette;
    for (const kind of palette.kinds) state.kinds.set(kind.name, kind);
    state.doc = source.document || { title: source.title || "", pace: "presenter", language: "en", activities: [] };
    if (!Array.isArray(state.doc.activities)) state.doc.activities = [];
    state.version = source.version;
    state.problems = source.problems || [];
    state.language = deckLanguage();
  } catch (error) {
    status(t("could_not_load"), "error");
    return;
  }
  renderPalette();
  wireImport();
  renderAll();
  scaleFrames();
  status(CAN_EDIT ? t("all_saved") : t("read_only"), CAN_EDIT ? "ok" : "");
  if (!CAN_EDIT) $("add-activity").disabled = true;
}

start();
