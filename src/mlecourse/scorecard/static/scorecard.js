/* MLE course scorecard: live scoring of the rubric form rendered by mlecourse.scorecard.sphinxext.
 *
 * Vanilla JavaScript, no framework, no network. The scoring rules are the same as in
 * mlecourse/scoring.py (see its docstring); exact arithmetic is done on integers so that
 * rounding half up to one decimal matches Python's decimal (2.25 -> 2.3, 1.05 -> 1.1).
 * User text (notes, imported files, shared links) is only ever written with textContent.
 */
(function () {
  "use strict";

  var FORMAT = "mlecourse-assessment";
  var FORMAT_VERSION = 1;
  var DASH = "\u2013";
  var KNOWN_KEYS = ["format", "format_version", "rubric", "answers", "notes", "evidence",
                    "prefilled", "created"];

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
    rubric.levels.forEach(function (lv, i) {
      rubric._units[lv.key] = Math.round(lv.value * scale);
      rubric._rank[lv.key] = i;
    });
    rubric._groupPos = {}; rubric.groups.forEach(function (g, i) { rubric._groupPos[g.id] = i; });
    rubric._itemPos = {}; rubric.items.forEach(function (it, i) { rubric._itemPos[it.id] = i; });
    rubric._cellOrder = [];
    rubric.groups.forEach(function (g) { rubric.items.forEach(function (it) { rubric._cellOrder.push(g.id + "." + it.id); }); });
    return rubric;
  }

  /* The canonical key ("1", "0.5") of a level value, or null if it is not a level. */
  function levelKey(rubric, value) {
    if (typeof value !== "number" || !isFinite(value)) { return null; }
    for (var i = 0; i < rubric.levels.length; i++) {
      if (Math.abs(rubric.levels[i].value - value) < 1e-12) { return rubric.levels[i].key; }
    }
    return null;
  }

  function levelLabels(rubric) { return rubric.levels.map(function (lv) { return lv.key; }).join(", "); }

  // ------------------------------------------------------------------ scoring (pure)

  /* answers: {cell: level key}. Returns display texts, next steps, flags and band. */
  function score(rubric, answers) {
    var K = rubric._scale;
    var display = {};
    var groupFrac = {};  // group -> [sumUnits, count] (count = answered cells)
    var total = 0, count = 0;
    var sectionSums = [];
    rubric.groups.forEach(function (g) {
      var s = 0, n = 0;
      rubric.items.forEach(function (it) {
        var key = answers[g.id + "." + it.id];
        if (key !== undefined && key !== null) { s += rubric._units[key]; n += 1; }
      });
      total += s; count += n;
      sectionSums.push(s);
      if (rubric.scoring === "maturity") {
        groupFrac[g.id] = n ? [s, K * n] : null;
      } else {
        groupFrac[g.id] = n ? [s, K] : null;
      }
      display[g.id] = groupFrac[g.id] ? formatFraction(groupFrac[g.id][0], groupFrac[g.id][1]) : DASH;
    });
    var result = { display: display, next: [], ahead: [], band: null, answered: count,
                   unanswered: rubric._cellOrder.filter(function (c) { return answers[c] === undefined || answers[c] === null; }) };
    if (rubric.scoring === "maturity") {
      display.overall = count ? formatFraction(total, K * count) : DASH;
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
    // next steps: answered cells below the top level; lowest level, group order, item order
    var topKey = rubric.levels[rubric.levels.length - 1].key;
    var todo = rubric._cellOrder.filter(function (c) { return answers[c] !== undefined && answers[c] !== null && answers[c] !== topKey; });
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

  // ------------------------------------------------------------------ the interchange format

  function isObject(x) { return x !== null && typeof x === "object" && !Array.isArray(x); }

  /* Validate parsed JSON against the rubric. Returns {answers, notes, evidence, prefilled, created}
   * with answers as level keys, or throws an Error with a clear message. */
  function validateAssessment(rubric, data) {
    if (!isObject(data)) { throw new Error("an assessment must be a JSON object"); }
    if (data.format !== FORMAT) { throw new Error("field 'format' must be '" + FORMAT + "'"); }
    if (data.format_version !== FORMAT_VERSION) { throw new Error("field 'format_version' must be " + FORMAT_VERSION); }
    Object.keys(data).forEach(function (k) {
      if (KNOWN_KEYS.indexOf(k) < 0) { throw new Error("unknown field '" + k + "'"); }
    });
    if (!isObject(data.rubric) || typeof data.rubric.id !== "string") { throw new Error("field 'rubric' must name the rubric id"); }
    if (data.rubric.id !== rubric.id) {
      throw new Error("this is an assessment for rubric '" + data.rubric.id + "', not '" + rubric.id + "'");
    }
    if (typeof data.rubric.version !== "string" || data.rubric.version.split(".")[0] !== rubric.version.split(".")[0]) {
      throw new Error("rubric version " + JSON.stringify(data.rubric.version) + " is incompatible with " + rubric.version);
    }
    var answers = {};
    var raw = data.answers === undefined ? {} : data.answers;
    if (!isObject(raw)) { throw new Error("field 'answers' must be an object of cell -> level"); }
    Object.keys(raw).forEach(function (c) {
      if (!Object.prototype.hasOwnProperty.call(rubric.cells, c)) { throw new Error("unknown cell '" + c + "'"); }
      if (raw[c] === null) { return; }
      var key = levelKey(rubric, raw[c]);
      if (key === null) {
        throw new Error("level " + JSON.stringify(raw[c]) + " for '" + c + "' is out of range (allowed: " + levelLabels(rubric) + ")");
      }
      answers[c] = key;
    });
    var notes = {};
    var rawNotes = data.notes === undefined || data.notes === null ? {} : data.notes;
    if (!isObject(rawNotes)) { throw new Error("field 'notes' must be an object of cell -> text"); }
    Object.keys(rawNotes).forEach(function (c) {
      if (!Object.prototype.hasOwnProperty.call(rubric.cells, c)) { throw new Error("note for unknown cell '" + c + "'"); }
      if (typeof rawNotes[c] !== "string") { throw new Error("the note for '" + c + "' must be text"); }
      notes[c] = rawNotes[c];
    });
    var evidence = data.evidence === undefined || data.evidence === null ? {} : data.evidence;
    if (!isObject(evidence)) { throw new Error("field 'evidence' must be an object of cell -> list"); }
    Object.keys(evidence).forEach(function (c) {
      if (!Object.prototype.hasOwnProperty.call(rubric.cells, c)) { throw new Error("evidence for unknown cell '" + c + "'"); }
      if (!Array.isArray(evidence[c])) { throw new Error("the evidence for '" + c + "' must be a list"); }
    });
    var prefilled = data.prefilled === undefined || data.prefilled === null ? [] : data.prefilled;
    if (!Array.isArray(prefilled)) { throw new Error("field 'prefilled' must be a list of cells"); }
    prefilled.forEach(function (c) {
      if (!Object.prototype.hasOwnProperty.call(rubric.cells, c)) { throw new Error("unknown pre-filled cell '" + c + "'"); }
    });
    if (data.created !== undefined && data.created !== null && typeof data.created !== "string") {
      throw new Error("field 'created' must be an ISO 8601 timestamp");
    }
    return { answers: answers, notes: notes, evidence: evidence, prefilled: prefilled.slice(), created: data.created || null };
  }

  function parseAssessment(rubric, text) {
    var data;
    try { data = JSON.parse(text); } catch (e) { throw new Error("the file is not valid JSON"); }
    return validateAssessment(rubric, data);
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
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }

  // ------------------------------------------------------------------ the page

  function Scorecard(form) {
    var scriptEl = form.querySelector("script[data-mle-rubric]");
    this.form = form;
    this.rubric = prepare(JSON.parse(scriptEl.textContent));
    this.storageKey = "mlecourse-scorecard:" + this.rubric.id;
    this.state = { answers: {}, notes: {}, evidence: {}, prefilled: [], created: null };
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
    var self = this;
    var answers = {};
    self.rubric._cellOrder.forEach(function (c) {
      Array.prototype.forEach.call(self.radios(c), function (r) { if (r.checked) { answers[c] = r.value; } });
    });
    self.state.answers = answers;
  };

  Scorecard.prototype.assessment = function () {
    var self = this, answers = {}, notes = {};
    self.rubric._cellOrder.forEach(function (c) {
      if (self.state.answers[c] !== undefined) { answers[c] = self.rubric._units[self.state.answers[c]] / self.rubric._scale; }
      if (self.state.notes[c]) { notes[c] = self.state.notes[c]; }
    });
    return { format: FORMAT, format_version: FORMAT_VERSION,
             rubric: { id: self.rubric.id, version: self.rubric.version },
             answers: answers, notes: notes, evidence: self.state.evidence,
             prefilled: self.state.prefilled.filter(function (c) { return answers[c] !== undefined; }),
             created: new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00") };
  };

  Scorecard.prototype.save = function () {
    try { window.localStorage.setItem(this.storageKey, JSON.stringify(this.assessment())); } catch (e) { /* private mode */ }
  };

  Scorecard.prototype.apply = function (parsed) {
    this.state = parsed;
    this.fill();
    this.update();
  };

  Scorecard.prototype.restore = function () {
    var hash = window.location.hash || "";
    var fromLink = false;
    if (hash.indexOf("#assessment=") === 0) {
      try {
        this.apply(parseAssessment(this.rubric, fromBase64Url(hash.slice("#assessment=".length))));
        this.save();
        // drop the answers from the address so that later changes survive a reload
        history.replaceState(null, "", window.location.href.split("#")[0]);
        this.message("Loaded the answers from the shared link; they replace the answers saved in this browser.", "info");
        fromLink = true;
      } catch (e) {
        this.message("The shared link could not be read (" + e.message + "); it was ignored.", "error");
      }
    }
    if (!fromLink) {
      var stored = null;
      try { stored = window.localStorage.getItem(this.storageKey); } catch (e) { stored = null; }
      if (stored) {
        try {
          this.apply(parseAssessment(this.rubric, stored));
          return;
        } catch (e) {
          var keep = this.messageEl.textContent ? this.messageEl.textContent + " " : "";
          this.message(keep + "The answers saved in this browser could not be read (" + e.message + ") and were ignored.", "error");
        }
      }
    }
    this.update();
  };

  /* Recompute and redraw every result from the state. */
  Scorecard.prototype.update = function () {
    var self = this, rubric = self.rubric;
    var res = score(rubric, self.state.answers);
    var nodes = self.form.querySelectorAll("[data-mle-score]");
    Array.prototype.forEach.call(nodes, function (el) {
      var k = el.getAttribute("data-mle-score");
      if (Object.prototype.hasOwnProperty.call(res.display, k)) { el.textContent = res.display[k]; }
    });
    var bandEl = self.form.querySelector("[data-mle-band]");
    if (bandEl) { bandEl.textContent = res.band === null ? DASH : res.band; }
    rubric._cellOrder.forEach(function (c) {
      var td = self.form.querySelector('[data-mle-heat="' + cssEscape(c) + '"]');
      var key = self.state.answers[c];
      var fs = self.form.querySelector('[data-mle-cell="' + cssEscape(c) + '"]');
      var pre = self.state.prefilled.indexOf(c) >= 0 && key !== undefined;
      if (td) {
        td.textContent = key === undefined ? "" : key;
        if (key === undefined) { td.removeAttribute("data-rank"); } else { td.setAttribute("data-rank", String(rubric._rank[key])); }
        td.title = c + (key === undefined ? ": not answered" : ": " + key);
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
    var groupNames = {}; rubric.groups.forEach(function (g) { groupNames[g.id] = g.name; });
    var itemNames = {}; rubric.items.forEach(function (it) { itemNames[it.id] = it.name; });
    res.next.forEach(function (step) {
      var li = document.createElement("li");
      li.setAttribute("data-cell", step.cell);
      li.setAttribute(maturity ? "data-principle" : "data-section", step.group);
      li.setAttribute(maturity ? "data-aspect" : "data-test", step.item);
      li.setAttribute("data-level", step.level);
      var head = document.createElement("strong");
      head.textContent = maturity
        ? groupNames[step.group] + ", " + itemNames[step.item].toLowerCase() + " (level " + step.level + ")"
        : groupNames[step.group] + " " + step.item + " (" + step.level + ")";
      li.appendChild(head);
      if (!maturity) { li.appendChild(document.createTextNode(" " + rubric.cells[step.cell].question)); }
      li.appendChild(document.createTextNode(maturity ? ": " + step.text : " " + step.text));
      var note = self.state.notes[step.cell];
      if (note) {
        var n = document.createElement("span");
        n.className = "mle-note";
        n.textContent = "Your note: " + note;  // text, never HTML
        li.appendChild(n);
      }
      list.appendChild(li);
    });
    if (!res.next.length) {
      list.setAttribute("data-empty", res.answered ? "done" : "none");
    } else {
      list.removeAttribute("data-empty");
    }
    // ahead of foundations
    var ahead = self.form.querySelector("[data-mle-ahead]");
    if (ahead) {
      while (ahead.firstChild) { ahead.removeChild(ahead.firstChild); }
      res.ahead.forEach(function (a) {
        var li = document.createElement("li");
        li.setAttribute("data-group", a.group);
        li.setAttribute("data-foundation", a.foundation);
        li.textContent = groupNames[a.group] + " (" + a.score + ") is ahead of its foundation " +
          groupNames[a.foundation] + " (" + a.foundation_score + "): strengthen " + groupNames[a.foundation] + " first.";
        ahead.appendChild(li);
      });
    }
    var un = self.form.querySelector("[data-mle-unanswered]");
    if (un) {
      var total = rubric._cellOrder.length, missing = res.unanswered.length;
      un.textContent = missing === 0 ? "All " + total + " answered." :
        missing + " of " + total + " unanswered (" + (maturity ? "left out of the scores" : "counted as not done") + ").";
    }
    self.lastResult = res;
    self.form.setAttribute("data-mle-ready", "true");
  };

  Scorecard.prototype.bind = function () {
    var self = this, form = self.form;
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("change", function (e) {
      var t = e.target;
      if (t.type === "radio") {
        self.read();
        var i = self.state.prefilled.indexOf(t.name);
        if (i >= 0) { self.state.prefilled.splice(i, 1); }
        self.update(); self.save();
      } else if (t.getAttribute("data-mle-action") === "import") {
        self.importFile(t);
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
      else if (action === "share") { self.share(); }
      else if (action === "reset") { self.reset(); }
    });
    window.addEventListener("hashchange", function () {
      if ((window.location.hash || "").indexOf("#assessment=") === 0) { self.restore(); }
    });
  };

  Scorecard.prototype.exportFile = function () {
    var text = JSON.stringify(this.assessment(), null, 2) + "\n";
    var blob = new Blob([text], { type: "application/json" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = this.rubric.id + "-assessment.json";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
    this.message("Exported " + a.download + ".", "info");
  };

  Scorecard.prototype.importFile = function (input) {
    var self = this;
    var file = input.files && input.files[0];
    if (!file) { return; }
    file.text().then(function (text) {
      try {
        self.apply(parseAssessment(self.rubric, text));
        self.save();
        self.message("Imported " + file.name + ".", "info");
      } catch (e) {
        self.message("Import failed: " + e.message + ". Your current answers are unchanged.", "error");
      }
      input.value = "";
    });
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
    this.state = { answers: {}, notes: {}, evidence: {}, prefilled: [], created: null };
    this.fill();
    try { window.localStorage.removeItem(this.storageKey); } catch (e) { /* ignore */ }
    if ((window.location.hash || "").indexOf("#assessment=") === 0) {
      history.replaceState(null, "", window.location.href.split("#")[0]);
    }
    var out = this.form.querySelector("[data-mle-share-url]");
    out.value = ""; out.hidden = true;
    this.update();
    this.message("All answers cleared.", "info");
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

  window.MLEScorecard = {
    score: function (rubric, answers) { return score(rubric._scale ? rubric : prepare(rubric), answers); },
    prepare: prepare,
    formatFraction: formatFraction,
    roundHalfUpTenths: roundHalfUpTenths,
    validateAssessment: validateAssessment,
    instances: []
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
