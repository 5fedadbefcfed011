/* MLE course scorecard: live scoring of the rubric form rendered by mlecourse.scorecard.sphinxext.
 *
 * Vanilla JavaScript, no framework, no network. The scoring rules are the same as in
 * mlecourse/scorecard/scoring.py (see its docstring); exact arithmetic is done on integers so
 * that rounding half up to one decimal matches Python's decimal (2.25 -> 2.3, 1.05 -> 1.1).
 * Files, links and saved answers are checked with the assessment JSON Schema embedded in the
 * page (the same file Python validates with), then against the rubric, with the same messages.
 * The Markdown export is the table `mlecourse score --format markdown` prints (report.py).
 * User text (notes, imported files, shared links) is only ever written with textContent.
 */
(function () {
  "use strict";

  var FORMAT = "mlecourse-assessment";
  var FORMAT_VERSION = 1;
  var DASH = "\u2013";
  var N_SHADES = 4;  // level colours in scorecard.css (--mle-shade-0..3), lowest first

  // ------------------------------------------------------------------ exact arithmetic

  function gcd(a, b) { a = Math.abs(a); b = Math.abs(b); while (b) { var t = a % b; a = b; b = t; } return a; }

  /* A number as an exact fraction [numerator, denominator] (for rubric values like 0.5, 1.5). */
  function toRational(x) {
    for (var d = 1; d <= 100000; d *= 10) {
      var n = Math.round(x * d);
      if (Math.abs(n - x * d) < 1e-9) { var g = gcd(n, d) || 1; return [n / g, d / g]; }
    }
    throw new Error("not a decimal number: " + x);
  }

  function intDiv(a, b) { return (a - (a % b)) / b; }  // a >= 0, b > 0

  /* Tenths of num/den rounded half up: floor((20*num + den) / (2*den)). num >= 0. */
  function roundHalfUpTenths(num, den) { return intDiv(20 * num + den, 2 * den); }

  function formatTenths(t) { return intDiv(t, 10) + "." + (t % 10); }

  /* Display text for num/den with one decimal, rounded half up. */
  function formatFraction(num, den) { return formatTenths(roundHalfUpTenths(num, den)); }

  // ------------------------------------------------------------------ the rubric

  function prepare(rubric) {
    var scale = 1;
    rubric.levels.forEach(function (lv) { var r = toRational(lv.value); scale = scale * r[1] / gcd(scale, r[1]); });
    rubric._scale = scale;  // every level value * scale is an integer
    rubric._units = {};
    rubric._rank = {};
    rubric._shade = {};
    var n = rubric.levels.length;
    rubric.levels.forEach(function (lv, i) {
      rubric._units[lv.key] = Math.round(lv.value * scale);
      rubric._rank[lv.key] = i;
      // the same rule as sphinxext._shade: the top level always gets the top shade
      rubric._shade[lv.key] = n > N_SHADES ? Math.round(i * (N_SHADES - 1) / (n - 1)) : N_SHADES - n + i;
    });
    rubric._groupPos = {}; rubric.groups.forEach(function (g, i) { rubric._groupPos[g.id] = i; });
    rubric._itemPos = {}; rubric.items.forEach(function (it, i) { rubric._itemPos[it.id] = i; });
    rubric._groupName = {}; rubric.groups.forEach(function (g) { rubric._groupName[g.id] = g.name; });
    rubric._itemName = {}; rubric.items.forEach(function (it) { rubric._itemName[it.id] = it.name; });
    rubric._cellOrder = [];
    rubric.groups.forEach(function (g) { rubric.items.forEach(function (it) { rubric._cellOrder.push(g.id + "." + it.id); }); });
    return rubric;
  }

  function has(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }

  /* The canonical key ("1", "0.5") of a level value, or null if it is not exactly a level
   * (2.0000000000001 is not 2: Python refuses it too). */
  function levelKey(rubric, value) {
    if (typeof value !== "number" || !isFinite(value)) { return null; }
    for (var i = 0; i < rubric.levels.length; i++) {
      if (rubric.levels[i].value === value) { return rubric.levels[i].key; }
    }
    return null;
  }

  function levelLabels(rubric) { return rubric.levels.map(function (lv) { return lv.key; }).join(", "); }

  // ------------------------------------------------------------------ scoring (pure)

  function isAnswered(answers, c) { return answers[c] !== undefined && answers[c] !== null; }

  /* answers: {cell: level key}. Returns display texts, next steps, flags, band, weakest. */
  function score(rubric, answers) {
    var K = rubric._scale;
    var display = {};
    var groupFrac = {};  // group -> [numerator, denominator] or null
    var total = 0, count = 0;
    var sectionSums = [];
    var maturity = rubric.scoring === "maturity";
    rubric.groups.forEach(function (g) {
      var s = 0, n = 0;
      rubric.items.forEach(function (it) {
        var c = g.id + "." + it.id;
        if (isAnswered(answers, c)) { s += rubric._units[answers[c]]; n += 1; }
      });
      total += s; count += n;
      sectionSums.push(s);
      groupFrac[g.id] = n ? (maturity ? [s, K * n] : [s, K]) : null;
      display[g.id] = groupFrac[g.id] ? formatFraction(groupFrac[g.id][0], groupFrac[g.id][1]) : DASH;
    });
    var result = { display: display, next: [], ahead: [], band: null, answered: count,
                   total: rubric._cellOrder.length, weakestGroups: [],
                   unanswered: rubric._cellOrder.filter(function (c) { return !isAnswered(answers, c); }) };
    if (maturity) {
      display.overall = count ? formatFraction(total, K * count) : DASH;
      // the weakest link: the lowest principle mean, compared exactly (a/b < c/d <=> ad < cb)
      var low = null;
      rubric.groups.forEach(function (g) {
        var f = groupFrac[g.id];
        if (f && (low === null || f[0] * low[1] < low[0] * f[1])) { low = f; }
      });
      display.weakest = low ? formatFraction(low[0], low[1]) : DASH;
      if (low) {
        result.weakestGroups = rubric.groups.filter(function (g) {
          var f = groupFrac[g.id]; return f && f[0] * low[1] === low[0] * f[1];
        }).map(function (g) { return g.id; });
      }
    } else {
      var minUnits = Math.min.apply(null, sectionSums);
      display.final = count ? formatFraction(minUnits, K) : DASH;
      if (count) {
        for (var b = 0; b < rubric.bands.length; b++) {
          var up = rubric.bands[b].up_to;
          if (up === null) { result.band = rubric.bands[b].label; break; }
          var r = toRational(up);  // minUnits / K <= r0 / r1
          if (minUnits * r[1] <= r[0] * K) { result.band = rubric.bands[b].label; break; }
        }
      }
    }
    // next steps: answered cells below the top level; lowest level (0 first), group, item
    var topKey = rubric.levels[rubric.levels.length - 1].key;
    var todo = rubric._cellOrder.filter(function (c) { return isAnswered(answers, c) && answers[c] !== topKey; });
    todo.sort(function (a, b) {
      var ca = rubric.cells[a], cb = rubric.cells[b];
      return (rubric._rank[answers[a]] - rubric._rank[answers[b]]) ||
             (rubric._groupPos[ca.group] - rubric._groupPos[cb.group]) ||
             (rubric._itemPos[ca.item] - rubric._itemPos[cb.item]);
    });
    result.next = todo.map(function (c) {
      return { cell: c, group: rubric.cells[c].group, item: rubric.cells[c].item, level: answers[c],
               text: rubric.cells[c].next[answers[c]] };
    });
    // ahead of foundations: mean(G) - mean(F) >= gap, exactly
    if (rubric.foundation_gap !== null && rubric.foundation_gap !== undefined) {
      var gap = toRational(rubric.foundation_gap);
      rubric.groups.forEach(function (g) {
        (g.depends_on || []).forEach(function (f) {
          var a = groupFrac[g.id], c = groupFrac[f];
          if (!a || !c) { return; }
          // a0/a1 - c0/c1 >= gap0/gap1  <=>  (a0*c1 - c0*a1) * gap1 >= gap0 * a1 * c1
          if ((a[0] * c[1] - c[0] * a[1]) * gap[1] >= gap[0] * a[1] * c[1]) {
            result.ahead.push({ group: g.id, foundation: f, score: display[g.id], foundation_score: display[f] });
          }
        });
      });
    }
    return result;
  }

  /* Two answer sets compared cell by cell, as scoring.compare does. */
  function compare(rubric, before, after) {
    var cells = rubric._cellOrder.map(function (c) {
      var b = isAnswered(before, c) ? before[c] : null, a = isAnswered(after, c) ? after[c] : null;
      var change;
      if (b === null && a === null) { change = "unanswered"; }
      else if (b === null) { change = "added"; }
      else if (a === null) { change = "removed"; }
      else if (rubric._rank[a] > rubric._rank[b]) { change = "up"; }
      else if (rubric._rank[a] < rubric._rank[b]) { change = "down"; }
      else { change = "same"; }
      return { cell: c, before: b, after: a, change: change };
    });
    var sb = score(rubric, before), sa = score(rubric, after), scores = {};
    Object.keys(sb.display).forEach(function (k) { scores[k] = [sb.display[k], sa.display[k]]; });
    return { cells: cells, scores: scores, before: sb, after: sa,
             changed: cells.filter(function (c) { return c.change !== "same" && c.change !== "unanswered"; }) };
  }

  // ------------------------------------------------------------------ the report (report.py)

  function overallLabel(rubric) { return rubric.scoring === "maturity" ? "Overall (mean)" : "Final (lowest section sum)"; }
  function weakestLabel(rubric) { return "Weakest " + rubric.group_label.toLowerCase(); }
  function coverageText(res) { return res.answered === res.total ? "" : "over " + res.answered + " of " + res.total + " cells"; }

  function md(text) {
    text = String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    return text.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
  }

  function stepLine(rubric, step) {
    return rubric._groupName[step.group] + ", " + rubric._itemName[step.item] + " (level " + step.level + "): " + step.text;
  }

  function aheadMessage(rubric, a) {
    return rubric._groupName[a.group] + " (" + a.score + ") is ahead of its foundation " +
      rubric._groupName[a.foundation] + " (" + a.foundation_score + ")";
  }

  /* The Markdown of report.result_markdown, line for line. */
  function markdown(rubric, answers) {
    var res = score(rubric, answers);
    var blank = rubric.items.map(function () { return " |"; }).join("");
    var lines = ["### " + md(rubric.title) + " (" + md(rubric.id) + " " + md(rubric.version) + ")", "",
      "| " + md(rubric.group_label) + " | " + rubric.items.map(function (it) { return md(it.name); }).join(" | ") +
        " | " + (rubric.scoring === "maturity" ? "Score" : "Sum") + " |",
      "|---|" + rubric.items.map(function () { return ":-:|"; }).join("") + ":-:|"];
    rubric.groups.forEach(function (g) {
      var vals = rubric.items.map(function (it) { var c = g.id + "." + it.id; return isAnswered(answers, c) ? answers[c] : DASH; });
      lines.push("| " + md(g.name) + " | " + vals.join(" | ") + " | " + res.display[g.id] + " |");
    });
    var cov = coverageText(res);
    var key = rubric.scoring === "maturity" ? "overall" : "final";
    lines.push("| **" + overallLabel(rubric) + "** |" + blank + " **" + res.display[key] + "**" + (cov ? " " + cov : "") + " |");
    if (rubric.scoring === "maturity") {
      var who = res.weakestGroups.map(function (g) { return rubric._groupName[g]; }).join(", ");
      lines.push("| **" + md(weakestLabel(rubric)) + "** |" + blank + " **" + res.display.weakest + "**" + (who ? " (" + md(who) + ")" : "") + " |");
    }
    lines.push("", "Answered: " + res.answered + " of " + res.total + " cells.");
    if (res.band) { lines.push("Interpretation: " + md(res.band) + "."); }
    res.ahead.forEach(function (a) { lines.push("- Warning: " + md(aheadMessage(rubric, a)) + "."); });
    lines.push("", res.next.length ? "**Next steps**" : "**Next steps:** none.", "");
    res.next.forEach(function (s, i) { lines.push((i + 1) + ". " + md(stepLine(rubric, s))); });
    return lines.join("\n").replace(/\s+$/, "") + "\n";
  }

  // ------------------------------------------------------------------ the format (JSON Schema)

  function isObject(x) { return x !== null && typeof x === "object" && !Array.isArray(x); }

  var TYPE_WORDS = { object: "a JSON object", array: "a list", string: "text", number: "a number",
                     integer: "a whole number", "null": "null", "boolean": "true or false" };

  function typeOk(t, x) {
    switch (t) {
      case "object": return isObject(x);
      case "array": return Array.isArray(x);
      case "string": return typeof x === "string";
      case "number": return typeof x === "number";
      case "integer": return typeof x === "number" && Number.isInteger(x);
      case "null": return x === null;
      case "boolean": return typeof x === "boolean";
    }
    return false;
  }

  function codePoints(s) { var n = 0; for (var ch of s) { n += 1; } return n; }  // Python's len()

  function where(path) {
    if (!path.length) { return ""; }
    return String(path[0]) + path.slice(1).map(function (p) {
      return typeof p === "number" ? "[" + p + "]" : "[" + JSON.stringify(p) + "]";
    }).join("");
  }

  function reasonFor(node, kw, value) {
    if (has(node, "x-error")) { return node["x-error"]; }
    if (kw === "type") { return "must be " + [].concat(value).map(function (t) { return TYPE_WORDS[t]; }).join(" or "); }
    if (kw === "const") { return "must be " + JSON.stringify(value); }
    if (kw === "maxLength") { return "is longer than " + value + " characters"; }
    if (kw === "maxItems" || kw === "maxProperties") { return "has more than " + value + " entries"; }
    if (kw === "minimum") { return "must be at least " + value; }
    return "has the wrong form";
  }

  /* The first error of `inst` against `node`, in the order jsonschema reports it (keywords in
   * schema order; properties in schema order; other keys in the instance's order). Supports the
   * keywords assessment.schema.json uses. Returns null or {path, text} / {path, reason}. */
  function firstError(root, node, inst, path) {
    var keys = Object.keys(node);
    for (var i = 0; i < keys.length; i++) {
      var kw = keys[i], v = node[kw], e = null, k, j;
      if (kw === "$ref") {
        e = firstError(root, root.$defs[v.replace("#/$defs/", "")], inst, path);
      } else if (kw === "type") {
        if (![].concat(v).some(function (t) { return typeOk(t, inst); })) { e = { path: path, reason: reasonFor(node, kw, v) }; }
      } else if (kw === "const") {
        if (JSON.stringify(inst) !== JSON.stringify(v)) { e = { path: path, reason: reasonFor(node, kw, v) }; }
      } else if (kw === "required" && isObject(inst)) {
        for (j = 0; j < v.length && !e; j++) {
          if (!has(inst, v[j])) { e = { text: "field '" + where(path.concat([v[j]])) + "' is missing" }; }
        }
      } else if (kw === "properties" && isObject(inst)) {
        for (k in v) { if (has(v, k) && has(inst, k)) { e = firstError(root, v[k], inst[k], path.concat([k])); if (e) { break; } } }
      } else if (kw === "additionalProperties" && isObject(inst)) {
        var extras = Object.keys(inst).filter(function (x) { return !(node.properties && has(node.properties, x)); });
        for (j = 0; j < extras.length && !e; j++) {
          if (v === false) { e = { text: "field '" + where(path.concat([extras[j]])) + "' is not a known field" }; }
          else { e = firstError(root, v, inst[extras[j]], path.concat([extras[j]])); }
        }
      } else if (kw === "propertyNames" && isObject(inst)) {
        var names = Object.keys(inst);
        for (j = 0; j < names.length && !e; j++) {
          var sub = firstError(root, v, names[j], []);
          if (sub) { e = { text: "field '" + where(path) + "' has a key " + JSON.stringify(names[j].slice(0, 60)) + " that " + sub.reason }; }
        }
      } else if (kw === "items" && Array.isArray(inst)) {
        for (j = 0; j < inst.length && !e; j++) { e = firstError(root, v, inst[j], path.concat([j])); }
      } else if (kw === "maxLength" && typeof inst === "string") {
        if (codePoints(inst) > v) { e = { path: path, reason: reasonFor(node, kw, v) }; }
      } else if (kw === "pattern" && typeof inst === "string") {
        if (!new RegExp(v).test(inst)) { e = { path: path, reason: reasonFor(node, kw, v) }; }
      } else if (kw === "maxItems" && Array.isArray(inst)) {
        if (inst.length > v) { e = { path: path, reason: reasonFor(node, kw, v) }; }
      } else if (kw === "maxProperties" && isObject(inst)) {
        if (Object.keys(inst).length > v) { e = { path: path, reason: reasonFor(node, kw, v) }; }
      } else if (kw === "minimum" && typeof inst === "number") {
        if (inst < v) { e = { path: path, reason: reasonFor(node, kw, v) }; }
      }
      if (e) { return e; }
    }
    return null;
  }

  /* One sentence for the first way `data` breaks the schema, or null (assessment.schema_problem). */
  function schemaProblem(schema, data) {
    var e = firstError(schema, schema, data, []);
    if (!e) { return null; }
    if (e.text) { return e.text; }
    return e.path.length ? "field '" + where(e.path) + "' " + e.reason : "the assessment " + e.reason;
  }

  function pyRepr(s) { return "'" + s + "'"; }

  var DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

  /* Does a timestamp of the schema's form name a real date and time? (Python: fromisoformat.) */
  function realDate(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(text);
    if (!m) { return false; }
    var y = +m[1], mo = +m[2], d = +m[3];
    var leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && !leap ? 28 : DAYS[mo - 1])) { return false; }
    if (m[4] !== undefined && (+m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59))) { return false; }
    var off = /([+-])(\d{2}):(\d{2})$/.exec(text.slice(10));
    return !off || (+off[2] <= 23 && +off[3] <= 59);
  }

  /* Validate parsed JSON: the schema, then the rubric (assessment.validate_assessment). Returns
   * {answers (level keys), notes, evidence, prefilled, created} or throws Error(message). */
  function validateAssessment(rubric, schema, data) {
    var problem = schemaProblem(schema, data);
    if (problem) { throw new Error(problem); }
    if (data.rubric.id !== rubric.id) {
      throw new Error("this is an assessment for rubric " + pyRepr(data.rubric.id) + ", not " + pyRepr(rubric.id));
    }
    var version = data.rubric.version;
    if (version.split(".")[0] !== rubric.version.split(".")[0]) {
      throw new Error("field 'rubric[\"version\"]' " + pyRepr(version) + " is incompatible with rubric " +
                      pyRepr(rubric.id) + " version " + rubric.version);
    }
    function unknown(field, c) { return new Error("field '" + field + "' has unknown cell " + pyRepr(c) + " for rubric " + pyRepr(rubric.id)); }
    var answers = {}, raw = data.answers || {};
    Object.keys(raw).forEach(function (c) {
      if (!has(rubric.cells, c)) { throw unknown("answers", c); }
      if (raw[c] === null) { return; }
      var key = levelKey(rubric, raw[c]);
      if (key === null) {
        throw new Error("field '" + where(["answers", c]) + "' level " + String(raw[c]) +
                        " is out of range; allowed: " + levelLabels(rubric));
      }
      answers[c] = key;
    });
    var notes = data.notes || {}, evidence = data.evidence || {}, prefilled = data.prefilled || [];
    [["notes", Object.keys(notes)], ["evidence", Object.keys(evidence)], ["prefilled", prefilled]].forEach(function (pair) {
      pair[1].forEach(function (c) { if (!has(rubric.cells, c)) { throw unknown(pair[0], c); } });
    });
    var created = data.created === undefined ? null : data.created;
    if (created !== null && !realDate(created)) {
      throw new Error("field 'created' is not a real date and time: " + pyRepr(created));
    }
    var cleanNotes = {}, cleanEvidence = {};
    rubric._cellOrder.forEach(function (c) {
      if (has(notes, c)) { cleanNotes[c] = notes[c]; }
      if (has(evidence, c)) { cleanEvidence[c] = evidence[c]; }
    });
    return { answers: answers, notes: cleanNotes, evidence: cleanEvidence,
             prefilled: rubric._cellOrder.filter(function (c) { return prefilled.indexOf(c) >= 0; }),
             created: created };
  }

  function maxBytes(schema) { return schema["x-max-bytes"]; }

  function sizeText(n) { return n.toLocaleString("en-US"); }

  /* Parse a file's bytes (assessment.parse_assessment): size, UTF-8, JSON, then validate. */
  function parseBytes(rubric, schema, bytes) {
    if (bytes.length > maxBytes(schema)) {
      throw new Error("the file is " + sizeText(bytes.length) + " bytes; an assessment may have at most " + sizeText(maxBytes(schema)));
    }
    var text;
    try { text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); }  // drops a UTF-8 BOM
    catch (e) { throw new Error("not UTF-8 text; save the file as UTF-8"); }
    return parseText(rubric, schema, text);
  }

  function parseText(rubric, schema, text) {
    var data;
    try { data = JSON.parse(text); } catch (e) { throw new Error("not valid JSON (" + e.message + ")"); }
    return validateAssessment(rubric, schema, data);
  }

  function toBase64Url(text) {
    var bytes = new TextEncoder().encode(text);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64Url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return bytes;
  }

  /* Text with `backtick` spans as <code> elements, appended to `parent` (never as HTML). */
  function appendInline(parent, text) {
    String(text).split("`").forEach(function (part, i) {
      if (!part) { return; }
      if (i % 2) { var code = document.createElement("code"); code.textContent = part; parent.appendChild(code); }
      else { parent.appendChild(document.createTextNode(part)); }
    });
  }

  function emptyState() { return { answers: {}, notes: {}, evidence: {}, prefilled: [], created: null }; }

  function countOf(obj) { return Object.keys(obj).length; }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  // ------------------------------------------------------------------ the page

  function Scorecard(form) {
    this.form = form;
    this.rubric = prepare(JSON.parse(form.querySelector("script[data-mle-rubric]").textContent));
    this.schema = JSON.parse(form.querySelector("script[data-mle-schema]").textContent);
    this.storageKey = "mlecourse-scorecard:" + this.rubric.id;
    this.undoKey = this.storageKey + ":undo";
    this.state = emptyState();
    this.undo = null;      // {data: assessment, why: "import"} - one step
    this.pending = null;   // the action a confirmation waits for
    this.messageEl = form.querySelector("[data-mle-message]");
    this.bind();
    this.restore();
  }

  Scorecard.prototype.message = function (text, kind) {
    this.messageEl.textContent = text;
    this.messageEl.className = "mle-message" + (kind ? " mle-" + kind : "");
  };

  Scorecard.prototype.radios = function (cell) {
    return this.form.querySelectorAll('input[type="radio"][name="' + cssEscape(cell) + '"]');
  };

  /* Put the state into the form controls. */
  Scorecard.prototype.fill = function () {
    var self = this;
    self.rubric._cellOrder.forEach(function (c) {
      var key = self.state.answers[c];
      Array.prototype.forEach.call(self.radios(c), function (r) { r.checked = key !== undefined && r.value === key; });
      var note = self.form.querySelector('textarea[data-mle-note="' + cssEscape(c) + '"]');
      if (note) { note.value = self.state.notes[c] || ""; }
    });
  };

  /* Read the answers from the radio inputs. */
  Scorecard.prototype.read = function () {
    var self = this, answers = {};
    self.rubric._cellOrder.forEach(function (c) {
      Array.prototype.forEach.call(self.radios(c), function (r) { if (r.checked) { answers[c] = r.value; } });
    });
    self.state.answers = answers;
  };

  Scorecard.prototype.assessmentOf = function (state) {
    var rubric = this.rubric, answers = {}, notes = {};
    rubric._cellOrder.forEach(function (c) {
      if (state.answers[c] !== undefined) { answers[c] = rubric._units[state.answers[c]] / rubric._scale; }
      if (state.notes[c]) { notes[c] = state.notes[c]; }
    });
    return { format: FORMAT, format_version: FORMAT_VERSION,
             rubric: { id: rubric.id, version: rubric.version },
             answers: answers, notes: notes, evidence: state.evidence,
             prefilled: state.prefilled.filter(function (c) { return answers[c] !== undefined; }),
             created: new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00") };
  };

  Scorecard.prototype.assessment = function () { return this.assessmentOf(this.state); };

  /* Write to local storage; a failure (full, blocked, private mode) is shown, never swallowed. */
  Scorecard.prototype.store = function (key, value) {
    try {
      if (value === null) { window.localStorage.removeItem(key); } else { window.localStorage.setItem(key, value); }
      return null;
    } catch (e) {
      return (e && e.name ? e.name : "error");
    }
  };

  Scorecard.prototype.saveError = function (why) {
    return "Your answers could not be saved in this browser (" + why + ": storage is full or blocked). " +
      "They stay on this page until you leave it: use Export JSON to keep them.";
  };

  /* Save the answers; returns true, or shows why not and returns false. */
  Scorecard.prototype.save = function () {
    var failed = this.store(this.storageKey, JSON.stringify(this.assessment()));
    if (failed) { this.message(this.saveError(failed), "error"); this.saveFailed = true; return false; }
    if (this.saveFailed) { this.saveFailed = false; this.message("Saved in this browser again.", "info"); }
    return true;
  };

  Scorecard.prototype.apply = function (parsed) {
    this.state = parsed;
    this.fill();
    this.update();
  };

  Scorecard.prototype.hasContent = function (state) {
    return countOf(state.answers) > 0 || countOf(state.notes) > 0;
  };

  Scorecard.prototype.sameContent = function (a, b) {
    var A = this.assessmentOf(a), B = this.assessmentOf(b);
    return JSON.stringify([A.answers, A.notes]) === JSON.stringify([B.answers, B.notes]);
  };

  Scorecard.prototype.setUndo = function (undo) {
    this.undo = undo;
    var failed = this.store(this.undoKey, undo ? JSON.stringify(undo) : null);
    var button = this.form.querySelector('[data-mle-action="undo"]');
    button.disabled = !undo;
    button.textContent = undo ? "Undo " + undo.why : "Undo";
    return failed;
  };

  /* Replace the answers (import, link, reset) keeping the previous ones for one-step undo.
   * Returns "" or the text of a failed save, to append to the caller's message. */
  Scorecard.prototype.replace = function (parsed, why) {
    var before = this.assessment();
    var failed = this.hasContent(this.state) ? this.setUndo({ data: before, why: why }) : this.setUndo(null);
    this.apply(parsed);
    var saved = this.store(this.storageKey, JSON.stringify(this.assessment()));
    var problems = [];
    if (saved) { problems.push(this.saveError(saved)); this.saveFailed = true; }
    if (failed) { problems.push("The previous answers could not be kept in this browser for undo (" + failed + "); Undo works until you leave this page."); }
    return problems.join(" ");
  };

  Scorecard.prototype.say = function (text, problem) {
    if (problem) { this.message(text + " " + problem, "error"); } else { this.message(text, "info"); }
  };

  Scorecard.prototype.undoLast = function () {
    if (!this.undo) { this.message("There is nothing to undo.", "info"); return; }
    var undo = this.undo, parsed;
    try { parsed = validateAssessment(this.rubric, this.schema, undo.data); }
    catch (e) { this.setUndo(null); this.message("The earlier answers could not be restored (" + e.message + ").", "error"); return; }
    // nothing is ever lost: the answers the undo replaces can be brought back in turn
    var current = this.hasContent(this.state) ? { data: this.assessment(), why: "restore" } : null;
    this.apply(parsed);
    this.setUndo(current);
    var failed = this.store(this.storageKey, JSON.stringify(this.assessment()));
    this.say("Restored the answers you had before the " + undo.why + "." +
             (current ? " Undo restore brings back the ones it replaced." : ""), failed ? this.saveError(failed) : "");
  };

  /* Ask before a destructive action; `yes` runs on confirmation. */
  Scorecard.prototype.ask = function (text, yesLabel, yes, no) {
    var box = this.form.querySelector("[data-mle-confirm]");
    box.querySelector("[data-mle-confirm-text]").textContent = text;
    box.querySelector('[data-mle-action="confirm"]').textContent = yesLabel;
    box.hidden = false;
    this.pending = { yes: yes, no: no || null };
    box.querySelector('[data-mle-action="confirm"]').focus();
  };

  Scorecard.prototype.answerPending = function (ok) {
    var p = this.pending;
    this.pending = null;
    this.form.querySelector("[data-mle-confirm]").hidden = true;
    if (p && ok) { p.yes(); } else if (p && p.no) { p.no(); }
  };

  Scorecard.prototype.clearHash = function () {
    if ((window.location.hash || "").indexOf("#assessment=") === 0) {
      history.replaceState(null, "", window.location.href.split("#")[0]);
    }
  };

  Scorecard.prototype.restore = function () {
    var self = this, stored = null, undo = null;
    try { stored = window.localStorage.getItem(self.storageKey); undo = window.localStorage.getItem(self.undoKey); }
    catch (e) { self.message(self.saveError(e && e.name ? e.name : "error"), "error"); }
    if (stored) {
      try { self.apply(parseText(self.rubric, self.schema, stored)); }
      catch (e) { self.message("The answers saved in this browser could not be read (" + e.message + ") and were ignored.", "error"); }
    }
    if (undo) {
      try {
        var u = JSON.parse(undo);
        validateAssessment(self.rubric, self.schema, u.data);
        self.setUndo({ data: u.data, why: String(u.why || "last change") });
      } catch (e) { self.setUndo(null); }
    }
    self.update();
    self.fromLink();
  };

  /* A #assessment= link: load it, asking first when it would replace other saved answers. */
  Scorecard.prototype.fromLink = function () {
    var self = this, hash = window.location.hash || "";
    if (hash.indexOf("#assessment=") !== 0) { return; }
    var parsed;
    try { parsed = parseBytes(self.rubric, self.schema, fromBase64Url(hash.slice("#assessment=".length))); }
    catch (e) {
      var keep = self.messageEl.textContent ? self.messageEl.textContent + " " : "";
      self.message(keep + "The shared link could not be read (" + e.message + "); it was ignored and your answers are unchanged.", "error");
      return;
    }
    var load = function () {
      self.clearHash();  // later changes must survive a reload
      var had = self.hasContent(self.state), problem = self.replace(parsed, "shared link");
      self.say("Loaded the answers from the shared link." + (had ? " Undo brings back the answers you had." : ""), problem);
    };
    if (!self.hasContent(self.state) || self.sameContent(self.state, parsed)) { load(); return; }
    self.ask("This shared link carries " + plural(countOf(parsed.answers), "answer") + " and " + plural(countOf(parsed.notes), "note") +
             ". Replace the " + plural(countOf(self.state.answers), "answer") + " and " + plural(countOf(self.state.notes), "note") +
             " saved in this browser with them? You can undo this.", "Replace with the link's answers", load, function () {
      self.clearHash();
      self.message("Kept the answers saved in this browser; the link's answers were not loaded.", "info");
    });
  };

  /* Recompute and redraw every result from the state. */
  Scorecard.prototype.update = function () {
    var self = this, rubric = self.rubric;
    var res = score(rubric, self.state.answers);
    Array.prototype.forEach.call(self.form.querySelectorAll("[data-mle-score]"), function (el) {
      var k = el.getAttribute("data-mle-score");
      if (has(res.display, k)) { el.textContent = res.display[k]; }
    });
    var set = function (sel, text) { var el = self.form.querySelector(sel); if (el) { el.textContent = text; } };
    set("[data-mle-band]", res.band === null ? DASH : res.band);
    set("[data-mle-answered]", String(res.answered));
    set("[data-mle-coverage]", coverageText(res));
    set("[data-mle-weakest-names]", res.weakestGroups.length ?
        "(" + res.weakestGroups.map(function (g) { return rubric._groupName[g]; }).join(", ") + ")" : "");
    rubric._cellOrder.forEach(function (c) {
      var td = self.form.querySelector('[data-mle-heat="' + cssEscape(c) + '"]');
      var key = self.state.answers[c];
      var fs = self.form.querySelector('[data-mle-cell="' + cssEscape(c) + '"]');
      var pre = self.state.prefilled.indexOf(c) >= 0 && key !== undefined;
      if (td) {
        td.textContent = key === undefined ? "" : key;
        if (key === undefined) { td.removeAttribute("data-rank"); td.removeAttribute("data-shade"); }
        else { td.setAttribute("data-rank", String(rubric._rank[key])); td.setAttribute("data-shade", String(rubric._shade[key])); }
        td.title = c + (key === undefined ? ": not answered" : ": " + key + " " + rubric.levels[rubric._rank[key]].name);
      }
      if (fs) {
        fs.classList.toggle("mle-answered", key !== undefined);
        fs.classList.toggle("mle-prefilled", pre);
        var badge = fs.querySelector(".mle-prefilled-badge");
        if (badge) { badge.hidden = !pre; }
      }
    });
    // next steps
    var list = self.form.querySelector("[data-mle-next]");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var maturity = rubric.scoring === "maturity";
    res.next.forEach(function (step) {
      var li = document.createElement("li");
      li.setAttribute("data-cell", step.cell);
      li.setAttribute(maturity ? "data-principle" : "data-section", step.group);
      li.setAttribute(maturity ? "data-aspect" : "data-test", step.item);
      li.setAttribute("data-level", step.level);
      var head = document.createElement("strong");
      head.textContent = maturity
        ? rubric._groupName[step.group] + ", " + rubric._itemName[step.item].toLowerCase() + " (level " + step.level + ")"
        : rubric._groupName[step.group] + " " + step.item + " (" + step.level + ")";
      li.appendChild(head);
      if (!maturity) { li.appendChild(document.createTextNode(" ")); appendInline(li, rubric.cells[step.cell].question); }
      li.appendChild(document.createTextNode(maturity ? ": " : " "));
      appendInline(li, step.text);
      var note = self.state.notes[step.cell];
      if (note) {
        var n = document.createElement("span");
        n.className = "mle-note";
        n.textContent = "Your note: " + note;  // text, never HTML
        li.appendChild(n);
      }
      list.appendChild(li);
    });
    if (!res.next.length) { list.setAttribute("data-empty", res.answered ? "done" : "none"); }
    else { list.removeAttribute("data-empty"); }
    // ahead of foundations
    var ahead = self.form.querySelector("[data-mle-ahead]");
    if (ahead) {
      while (ahead.firstChild) { ahead.removeChild(ahead.firstChild); }
      res.ahead.forEach(function (a) {
        var li = document.createElement("li");
        li.setAttribute("data-group", a.group);
        li.setAttribute("data-foundation", a.foundation);
        li.textContent = aheadMessage(rubric, a) + ": strengthen " + rubric._groupName[a.foundation] + " first.";
        ahead.appendChild(li);
      });
    }
    var total = rubric._cellOrder.length, missing = res.unanswered.length;
    set("[data-mle-unanswered]", missing === 0 ? "All " + total + " answered." :
        missing + " of " + total + " unanswered (" + (maturity ? "left out of the scores" : "counted as not done") + ").");
    self.lastResult = res;
    self.form.setAttribute("data-mle-ready", "true");
  };

  Scorecard.prototype.bind = function () {
    var self = this, form = self.form;
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("change", function (e) {
      var t = e.target, action = t.getAttribute && t.getAttribute("data-mle-action");
      if (t.type === "radio") {
        self.read();
        var i = self.state.prefilled.indexOf(t.name);
        if (i >= 0) { self.state.prefilled.splice(i, 1); }
        self.update(); self.save();
      } else if (action === "import" || action === "compare") {
        self.readFile(t, action);
      }
    });
    form.addEventListener("input", function (e) {
      var c = e.target.getAttribute && e.target.getAttribute("data-mle-note");
      if (c) {
        if (e.target.value) { self.state.notes[c] = e.target.value; } else { delete self.state.notes[c]; }
        self.update(); self.save();
      }
    });
    form.addEventListener("click", function (e) {
      var t = e.target;
      var clear = t.getAttribute && t.getAttribute("data-mle-clear");
      if (clear) {
        Array.prototype.forEach.call(self.radios(clear), function (r) { r.checked = false; });
        self.read(); self.update(); self.save();
        return;
      }
      var action = t.getAttribute && t.getAttribute("data-mle-action");
      if (action === "export") { self.exportFile(); }
      else if (action === "export-markdown") { self.exportMarkdown(); }
      else if (action === "share") { self.share(); }
      else if (action === "reset") { self.reset(); }
      else if (action === "undo") { self.undoLast(); }
      else if (action === "confirm") { self.answerPending(true); }
      else if (action === "cancel") { self.answerPending(false); }
    });
    window.addEventListener("hashchange", function () { self.fromLink(); });
  };

  Scorecard.prototype.download = function (text, name, type) {
    var blob = new Blob([text], { type: type });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  };

  Scorecard.prototype.exportFile = function () {
    var name = this.rubric.id + "-assessment.json";
    this.download(JSON.stringify(this.assessment(), null, 2) + "\n", name, "application/json");
    this.message("Exported " + name + ".", "info");
  };

  Scorecard.prototype.exportMarkdown = function () {
    var name = this.rubric.id + "-scorecard.md";
    this.download(markdown(this.rubric, this.state.answers), name, "text/markdown");
    this.message("Exported " + name + ": the table `mlecourse score --format markdown` prints, for a pull request or a wiki.", "info");
  };

  /* Import (replace the answers, undoable) or compare (show the differences) a chosen file. */
  Scorecard.prototype.readFile = function (input, action) {
    var self = this, file = input.files && input.files[0];
    if (!file) { return; }
    var verb = action === "import" ? "Import" : "Compare";
    var fail = function (e) {
      self.message(verb + " failed: " + e.message + ". Your current answers are unchanged.", "error");
      input.value = "";
    };
    if (file.size > maxBytes(self.schema)) {  // refuse before reading a huge file
      fail(new Error("the file is " + sizeText(file.size) + " bytes; an assessment may have at most " + sizeText(maxBytes(self.schema))));
      return;
    }
    file.arrayBuffer().then(function (buffer) {
      var parsed;
      try { parsed = parseBytes(self.rubric, self.schema, new Uint8Array(buffer)); } catch (e) { fail(e); return; }
      if (action === "import") {
        var had = self.hasContent(self.state), problem = self.replace(parsed, "import");
        self.say("Imported " + file.name + "." + (had ? " Undo brings back the answers you had." : ""), problem);
      } else {
        self.showComparison(parsed, file.name);
      }
      input.value = "";
    }, fail);
  };

  Scorecard.prototype.showComparison = function (before, name) {
    var self = this, rubric = self.rubric;
    var cmp = compare(rubric, before.answers, self.state.answers);
    var box = self.form.querySelector("[data-mle-compare]");
    while (box.firstChild) { box.removeChild(box.firstChild); }
    var el = function (tag, text, parent) { var x = document.createElement(tag); if (text !== undefined) { x.textContent = text; } (parent || box).appendChild(x); return x; };
    el("h3", "Compared with " + name);
    el("p", "Before: the file. After: the answers on this page.");
    var table = el("table"), head = el("tr", undefined, el("thead", undefined, table));
    ["", "before", "after"].forEach(function (t) { el("th", t, head); });
    var body = el("tbody", undefined, table);
    var label = function (k) {
      if (k === "overall" || k === "final") { return overallLabel(rubric); }
      if (k === "weakest") { return weakestLabel(rubric); }
      return rubric._groupName[k];
    };
    Object.keys(cmp.scores).forEach(function (k) {
      var tr = el("tr", undefined, body);
      tr.setAttribute("data-key", k);
      el("th", label(k), tr); el("td", cmp.scores[k][0], tr); el("td", cmp.scores[k][1], tr);
    });
    var tr = el("tr", undefined, body);
    tr.setAttribute("data-key", "answered");
    el("th", "Cells answered", tr); el("td", String(cmp.before.answered), tr); el("td", String(cmp.after.answered), tr);
    el("h4", cmp.changed.length ? plural(cmp.changed.length, "cell") + " changed" : "No cell changed");
    var ul = el("ul");
    cmp.changed.forEach(function (c) {
      var li = el("li", c.cell + ": " + (c.before === null ? DASH : c.before) + " \u2192 " + (c.after === null ? DASH : c.after) + " (" + c.change + ")", ul);
      li.setAttribute("data-cell", c.cell);
      li.setAttribute("data-change", c.change);
    });
    box.hidden = false;
    self.lastComparison = cmp;
    self.message("Compared with " + name + ": " + plural(cmp.changed.length, "cell") + " changed.", "info");
  };

  Scorecard.prototype.share = function () {
    var url = window.location.href.split("#")[0] + "#assessment=" + toBase64Url(JSON.stringify(this.assessment()));
    var out = this.form.querySelector("[data-mle-share-url]");
    out.value = url;
    out.hidden = false;
    out.select();
    try { if (navigator.clipboard) { navigator.clipboard.writeText(url).catch(function () {}); } } catch (e) { /* ignore */ }
    this.message("Shareable link ready: anyone who opens it sees these answers (the answers are in the link itself).", "info");
  };

  Scorecard.prototype.reset = function () {
    var self = this;
    if (!self.hasContent(self.state)) { self.message("There are no answers to reset.", "info"); return; }
    self.ask("Clear all " + plural(countOf(self.state.answers), "answer") + " and " + plural(countOf(self.state.notes), "note") +
             "? You can undo this.", "Clear all answers", function () {
      var problem = self.replace(emptyState(), "reset");
      self.clearHash();
      var out = self.form.querySelector("[data-mle-share-url]");
      out.value = ""; out.hidden = true;
      self.say("All answers cleared. Undo brings them back.", problem);
    }, function () { self.message("Nothing was cleared.", "info"); });
  };

  function cssEscape(s) {
    return (window.CSS && CSS.escape) ? CSS.escape(s) : String(s).replace(/["\\]/g, "\\$&");
  }

  // ------------------------------------------------------------------ start

  function init() {
    var forms = document.querySelectorAll("form[data-mle-scorecard]");
    window.MLEScorecard.instances = [];
    Array.prototype.forEach.call(forms, function (form) {
      try {
        window.MLEScorecard.instances.push(new Scorecard(form));
      } catch (e) {
        var p = form.querySelector("[data-mle-message]");
        if (p) { p.textContent = "The scorecard could not start: " + e.message; p.className = "mle-message mle-error"; }
      }
    });
  }

  function ready(rubric) { return rubric._scale ? rubric : prepare(rubric); }

  window.MLEScorecard = {
    score: function (rubric, answers) { return score(ready(rubric), answers); },
    compare: function (rubric, before, after) { return compare(ready(rubric), before, after); },
    markdown: function (rubric, answers) { return markdown(ready(rubric), answers); },
    prepare: prepare,
    formatFraction: formatFraction,
    roundHalfUpTenths: roundHalfUpTenths,
    schemaProblem: schemaProblem,
    validateAssessment: function (rubric, schema, data) { return validateAssessment(ready(rubric), schema, data); },
    parseBytes: function (rubric, schema, bytes) { return parseBytes(ready(rubric), schema, bytes); },
    instances: []
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
