(function () {
  'use strict';
  // Everything from the data is put in the DOM as text (textContent, text nodes): names come from
  // manifests and may hold markup. Lists draw only their visible rows; details are built on demand.
  var D = JSON.parse(document.getElementById('access-data').textContent);
  var S = D.subjects, B = D.bindings, R = D.roles;
  var G = D.graph || { nodes: [], edges: [] }, F = D.findings || [];
  var ROW = 26, CAP = 200;

  var subjectById = new Map(), roleById = new Map(), bindingById = new Map(), nodeById = new Map();
  S.forEach(function (s, i) { subjectById.set(s.id, i); s.text = (s.kind + ' ' + s.namespace + ' ' + s.name).toLowerCase(); });
  R.forEach(function (r, i) { roleById.set(r.id, i); r.text = (r.kind + ' ' + r.namespace + ' ' + r.name).toLowerCase(); });
  B.forEach(function (b, i) { bindingById.set(b.id, i); });
  G.nodes.forEach(function (n) { nodeById.set(n.id, n); });
  var outEdges = new Map();
  G.edges.forEach(function (e) { if (!outEdges.has(e.from)) outEdges.set(e.from, []); outEdges.get(e.from).push(e); });
  F.forEach(function (f) { f.text = (f.severity + ' ' + f.title + ' ' + f.subject + ' ' + f.binding).toLowerCase(); });

  // ---- small DOM helpers ----
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent, child) {
    if (child === undefined || child === null) return parent;
    if (Array.isArray(child)) child.forEach(function (c) { add(parent, c); });
    else if (typeof child === 'string' || typeof child === 'number') parent.appendChild(document.createTextNode(String(child)));
    else parent.appendChild(child);
    return parent;
  }
  function link(text, hash, title) {
    var a = el('span', 'link', text);
    a.setAttribute('role', 'link');
    a.setAttribute('tabindex', '0');
    a.dataset.hash = hash;
    if (title) a.title = title;
    return a;
  }
  function badge(text, cls) { return el('span', 'badge ' + (cls || ''), text); }
  function h(key, id) { return '#' + key + '=' + encodeURIComponent(id); }
  function subjectLabel(s) { return s.kind === 'ServiceAccount' ? s.namespace + '/' + s.name : s.name; }
  function subjectLink(i) { var s = S[i]; return [badge(s.kind, s.kind), link(subjectLabel(s), h('subject', s.id))]; }
  function roleLink(i) { var r = R[i]; return link(r.id, h('role', r.id)); }
  function bindingLink(i) { var b = B[i]; return link(b.id, h('binding', b.id)); }
  function list(items) { return items.length ? items.join(', ') : '-'; }
  function resourcesOf(rule) {
    if (rule.resources.length === 0 && rule.nonResourceURLs.length > 0) return rule.nonResourceURLs.join(', ');
    var out = [];
    rule.apiGroups.forEach(function (g) { rule.resources.forEach(function (r) { out.push(g === '' ? r : r + '.' + g); }); });
    return list(out);
  }
  function ruleText(rule) {
    var t = list(rule.verbs) + ' ' + resourcesOf(rule);
    if (rule.resourceNames.length) t += ' [' + rule.resourceNames.join(', ') + ']';
    return t;
  }

  // A table that draws CAP rows, then the rest on request.
  function table(headers, rows, cls) {
    var wrap = el('div');
    var t = el('table', cls), head = el('tr');
    headers.forEach(function (x) { head.appendChild(el('th', null, x)); });
    t.appendChild(head);
    wrap.appendChild(t);
    var shown = 0;
    function more(n) {
      var end = Math.min(rows.length, shown + n);
      for (; shown < end; shown++) {
        var tr = el('tr');
        rows[shown]().forEach(function (c) { tr.appendChild(add(el('td'), c)); });
        t.appendChild(tr);
      }
      if (button) button.remove();
      if (shown < rows.length) {
        button = el('button', 'more', 'show ' + Math.min(CAP * 5, rows.length - shown) + ' more of ' + (rows.length - shown));
        button.addEventListener('click', function () { more(CAP * 5); });
        wrap.appendChild(button);
      }
    }
    var button = null;
    if (rows.length === 0) wrap.appendChild(el('div', 'note', 'none'));
    more(CAP);
    return wrap;
  }

  // ---- the page ----
  var header = el('header');
  header.appendChild(el('h1', null, 'Access report'));
  var sas = S.filter(function (s) { return s.kind === 'ServiceAccount'; }).length;
  header.appendChild(el('span', 'counts', S.length + ' subjects (' + sas + ' ServiceAccounts) \u00b7 ' + B.length + ' bindings \u00b7 ' +
    R.length + ' roles \u00b7 ' + F.length + ' findings \u00b7 ' + G.edges.length + ' escalation edges'));
  var main = el('main'), side = el('div'), detail = el('div');
  side.id = 'side'; detail.id = 'detail';
  var tabs = el('div'); tabs.id = 'tabs';
  var filters = el('div'); filters.id = 'filters';
  var search = el('input'); search.id = 'search'; search.type = 'search'; search.placeholder = 'Search'; search.setAttribute('aria-label', 'Search');
  var kind = el('select'); kind.id = 'kind'; kind.setAttribute('aria-label', 'Kind');
  filters.appendChild(search); filters.appendChild(kind);
  var matches = el('div'); matches.id = 'matches';
  var listBox = el('div'); listBox.id = 'list';
  var spacer = el('div', 'vspacer');
  listBox.appendChild(spacer);
  side.appendChild(tabs); side.appendChild(filters); side.appendChild(matches); side.appendChild(listBox);
  main.appendChild(side); main.appendChild(detail);
  document.body.appendChild(header);
  document.body.appendChild(main);

  // Resources: every group/resource (or URL) named by a rule, with the roles that name it; built on first use.
  var resources = null;
  function resourceIndex() {
    if (resources) return resources;
    var map = new Map();
    R.forEach(function (r, ri) {
      r.rules.forEach(function (rule) {
        var keys = [];
        if (rule.resources.length === 0 && rule.nonResourceURLs.length > 0) keys = rule.nonResourceURLs.slice();
        else rule.apiGroups.forEach(function (g) { rule.resources.forEach(function (x) { keys.push(g === '' ? x : x + '.' + g); }); });
        keys.forEach(function (k) {
          if (!map.has(k)) map.set(k, []);
          map.get(k).push({ role: ri, rule: rule });
        });
      });
    });
    resources = Array.from(map.keys()).sort().map(function (k) { return { id: k, text: k.toLowerCase(), grants: map.get(k) }; });
    resources.byId = map;
    return resources;
  }

  var TABS = {
    subjects: { label: 'Subjects', kinds: ['User', 'Group', 'ServiceAccount'], items: function () { return S; }, key: 'subject',
      kindOf: function (s) { return s.kind; },
      row: function (s) { return [badge(s.kind, s.kind), s.kind === 'ServiceAccount' ? el('span', 'ns', s.namespace + '/') : null, s.name]; } },
    roles: { label: 'Roles', kinds: ['Role', 'ClusterRole'], items: function () { return R; }, key: 'role',
      kindOf: function (r) { return r.kind; },
      row: function (r) { return [badge(r.kind), r.namespace ? el('span', 'ns', r.namespace + '/') : null, r.name]; } },
    resources: { label: 'Resources', kinds: [], items: resourceIndex, key: 'resource',
      kindOf: function () { return ''; },
      row: function (x) { return [x.id, el('span', 'ns', ' \u00b7 ' + x.grants.length + ' rules')]; } },
    findings: { label: 'Findings', kinds: ['critical', 'high', 'medium', 'low', 'info'], items: function () { return F; }, key: 'finding',
      kindOf: function (f) { return f.severity; },
      row: function (f) { return [badge(f.severity, f.severity), f.title]; } },
  };
  var state = { tab: 'subjects', items: [], selected: '' };

  Object.keys(TABS).forEach(function (name) {
    var b = el('button', null, TABS[name].label);
    b.dataset.tab = name;
    b.addEventListener('click', function () { setTab(name); });
    tabs.appendChild(b);
  });

  function setTab(name) {
    state.tab = name;
    Array.prototype.forEach.call(tabs.children, function (b) { b.classList.toggle('on', b.dataset.tab === name); });
    kind.textContent = '';
    kind.appendChild(el('option', null, 'all kinds')).value = '';
    TABS[name].kinds.forEach(function (k) { kind.appendChild(el('option', null, k)).value = k; });
    kind.style.display = TABS[name].kinds.length ? '' : 'none';
    filter();
  }

  function filter() {
    var tab = TABS[state.tab], q = search.value.trim().toLowerCase(), k = kind.value;
    var words = q.split(/\s+/).filter(Boolean);
    state.items = tab.items().filter(function (x) {
      if (k && tab.kindOf(x) !== k) return false;
      for (var i = 0; i < words.length; i++) if (x.text.indexOf(words[i]) < 0) return false;
      return true;
    });
    matches.textContent = state.items.length + ' of ' + tab.items().length + ' ' + tab.label.toLowerCase();
    spacer.style.height = (state.items.length * ROW) + 'px';
    listBox.scrollTop = 0;
    draw();
  }

  // The virtualized list: only the rows in view (and a few around) exist.
  function draw() {
    var tab = TABS[state.tab];
    var top = listBox.scrollTop, height = listBox.clientHeight || 600;
    var first = Math.max(0, Math.floor(top / ROW) - 5), last = Math.min(state.items.length, Math.ceil((top + height) / ROW) + 5);
    spacer.textContent = '';
    for (var i = first; i < last; i++) {
      var item = state.items[i];
      var row = add(el('div', 'row'), tab.row(item));
      row.style.top = (i * ROW) + 'px';
      row.dataset.hash = h(tab.key, item.id);
      row.title = item.id;
      if (row.dataset.hash === state.selected) row.classList.add('sel');
      spacer.appendChild(row);
    }
  }

  var pending = 0;
  search.addEventListener('input', function () {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { pending = 0; filter(); });
  });
  kind.addEventListener('change', filter);
  listBox.addEventListener('scroll', draw);
  window.addEventListener('resize', draw);
  document.addEventListener('click', function (e) {
    var t = e.target.closest && e.target.closest('[data-hash]');
    if (t) { e.preventDefault(); go(t.dataset.hash); }
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && e.target.dataset && e.target.dataset.hash) go(e.target.dataset.hash);
  });
  function go(hash) { if (location.hash === hash) show(); else location.hash = hash; }
  window.addEventListener('hashchange', show);

  // ---- details ----
  function show() {
    var m = /^#(subject|role|binding|resource|finding|node)=(.*)$/.exec(location.hash);
    state.selected = m ? location.hash : '';
    detail.textContent = '';
    detail.scrollTop = 0;
    var id = m ? decodeURIComponent(m[2]) : '';
    if (!m) overview();
    else if (m[1] === 'subject' && subjectById.has(id)) showSubject(subjectById.get(id));
    else if (m[1] === 'role' && roleById.has(id)) showRole(roleById.get(id));
    else if (m[1] === 'binding' && bindingById.has(id)) showBinding(bindingById.get(id));
    else if (m[1] === 'resource' && resourceIndex().byId.has(id)) showResource(id);
    else if (m[1] === 'finding') showFinding(id);
    else if (m[1] === 'node') showNode(id);
    else add(detail, el('p', 'note', 'Not in this report: ' + id));
    detail.dataset.view = location.hash; // what the details show (hashchange fires after the click)
    draw();
  }

  function overview() {
    add(detail, el('h2', null, 'Overview'));
    add(detail, el('p', 'note', 'Pick a subject, role, resource or finding on the left; the search matches every word of kind, namespace and name.'));
    add(detail, el('h3', null, 'Findings'));
    add(detail, findingsTable(F));
  }

  function findingsTable(fs) {
    return table(['Severity', 'Finding', 'Subject', 'Binding', 'Fix'], fs.map(function (f) {
      return function () {
        return [badge(f.severity, f.severity), link(f.title, h('finding', f.id)),
          subjectById.has(f.subject) ? subjectLink(subjectById.get(f.subject)) : f.subject,
          bindingById.has(f.binding) ? bindingLink(bindingById.get(f.binding)) : f.binding, f.fix];
      };
    }));
  }

  // The groups an identity surely has: a ServiceAccount's token gives three; any authenticated user has one.
  function impliedGroups(s) {
    if (s.kind === 'ServiceAccount') return ['system:serviceaccounts', 'system:serviceaccounts:' + s.namespace, 'system:authenticated'];
    if (s.kind === 'User') return [s.name === 'system:anonymous' ? 'system:unauthenticated' : 'system:authenticated'];
    return [];
  }

  function roleCell(b) {
    if (b.role >= 0) return roleLink(b.role);
    return el('span', 'missing', b.roleRef.kind + '/' + b.roleRef.name + ' not found: grants nothing');
  }

  function scopeOf(b) { return b.kind === 'ClusterRoleBinding' ? '' : b.namespace; }

  function showSubject(i) {
    var s = S[i];
    add(detail, add(el('h2'), [badge(s.kind, s.kind), subjectLabel(s)]));
    if (s.kind === 'ServiceAccount')
      add(detail, el('p', 'note', s.declared ? 'ServiceAccount object present in the input.' : 'No ServiceAccount object of this name in the input (only named by bindings).'));
    var mine = F.filter(function (f) { return f.subject === s.id; });
    if (mine.length) { add(detail, el('h3', null, 'Findings')); add(detail, findingsTable(mine)); }

    add(detail, el('h3', null, 'Bindings'));
    add(detail, bindingsTable(s.bindings));

    var groups = impliedGroups(s).filter(function (g) { return subjectById.has('Group/' + g); });
    var grants = s.bindings.map(function (bi) { return { b: bi, via: null }; });
    if (groups.length) {
      add(detail, el('h3', null, 'Through groups'));
      add(detail, el('p', 'note', s.kind === 'User' ? 'Every authenticated user is in system:authenticated; the user may have further groups from its authenticator.' : 'A ServiceAccount token carries these groups.'));
      var rows = [];
      groups.forEach(function (g) {
        var gi = subjectById.get('Group/' + g);
        S[gi].bindings.forEach(function (bi) {
          grants.push({ b: bi, via: gi });
          rows.push(function () { return [subjectLink(gi), bindingLink(bi), scopeText(scopeOf(B[bi])), roleCell(B[bi])]; });
        });
      });
      add(detail, table(['Group', 'Binding', 'Scope', 'Role'], rows));
    }

    add(detail, el('h3', null, 'Effective permissions by namespace'));
    add(detail, el('p', 'note', 'Cluster-wide grants apply in every namespace as well. A RoleBinding grants its role\'s rules in its own namespace only, and never non-resource URLs.'));
    add(detail, permissions(grants));

    add(detail, el('h3', null, 'Escalation paths'));
    add(detail, graphView(s.id));
  }

  function scopeText(ns) { return ns === '' ? 'cluster-wide' : 'namespace ' + ns; }

  function bindingsTable(bis) {
    return table(['Binding', 'Scope', 'Role', 'Rules'], bis.map(function (bi) {
      return function () {
        var b = B[bi];
        var rules = b.role >= 0 ? R[b.role].rules.map(function (r) { return el('div', null, ruleText(r)); }) : '-';
        return [bindingLink(bi), scopeText(scopeOf(b)), roleCell(b), rules];
      };
    }));
  }

  function permissions(grants) {
    var byScope = new Map();
    grants.forEach(function (g) {
      var b = B[g.b];
      if (b.role < 0) return;
      var scope = scopeOf(b);
      R[b.role].rules.forEach(function (rule) {
        if (scope !== '' && rule.resources.length === 0) return;
        if (!byScope.has(scope)) byScope.set(scope, []);
        byScope.get(scope).push({ rule: rule, g: g });
      });
    });
    var scopes = Array.from(byScope.keys()).sort();
    var rows = [];
    scopes.forEach(function (scope) {
      byScope.get(scope).forEach(function (x) {
        rows.push(function () {
          var b = B[x.g.b];
          return [scope === '' ? 'cluster-wide' : scope, list(x.rule.verbs), resourcesOf(x.rule), list(x.rule.resourceNames),
            [bindingLink(x.g.b), ' \u2192 ', roleLink(b.role), x.g.via !== null ? [' (group ', subjectLink(x.g.via), ')'] : null]];
        });
      });
    });
    return table(['Namespace', 'Verbs', 'Resources', 'Resource names', 'Via'], rows, 'perm');
  }

  function showRole(i) {
    var r = R[i];
    add(detail, add(el('h2'), [badge(r.kind), r.namespace ? r.namespace + '/' + r.name : r.name]));
    if (r.aggregated) add(detail, el('p', 'note', 'Aggregated ClusterRole: its rules are those of the ClusterRoles its selectors match.'));
    add(detail, el('h3', null, 'Rules'));
    add(detail, table(['Verbs', 'API groups', 'Resources', 'Resource names', 'Non-resource URLs'], r.rules.map(function (x) {
      return function () { return [list(x.verbs), list(x.apiGroups.map(function (g) { return g === '' ? '"" (core)' : g; })), list(x.resources), list(x.resourceNames), list(x.nonResourceURLs)]; };
    })));
    add(detail, el('h3', null, 'Bound by'));
    var rows = [];
    r.bindings.forEach(function (bi) {
      var b = B[bi];
      if (b.subjects.length === 0) rows.push(function () { return [bindingLink(bi), scopeText(scopeOf(b)), '-']; });
      b.subjects.forEach(function (si) { rows.push(function () { return [bindingLink(bi), scopeText(scopeOf(b)), subjectLink(si)]; }); });
    });
    add(detail, table(['Binding', 'Scope', 'Subject'], rows));
  }

  function showBinding(i) {
    var b = B[i];
    add(detail, add(el('h2'), [badge(b.kind), b.namespace ? b.namespace + '/' + b.name : b.name]));
    add(detail, add(el('p'), ['Role: ', roleCell(b), ' \u00b7 ', scopeText(scopeOf(b))]));
    add(detail, el('h3', null, 'Subjects'));
    add(detail, table(['Subject'], b.subjects.map(function (si) { return function () { return [subjectLink(si)]; }; })));
    var mine = F.filter(function (f) { return f.binding === b.id; });
    if (mine.length) { add(detail, el('h3', null, 'Findings')); add(detail, findingsTable(mine)); }
  }

  function showResource(id) {
    var grants = resourceIndex().byId.get(id);
    add(detail, el('h2', null, id));
    add(detail, el('h3', null, 'Roles that grant it'));
    add(detail, table(['Role', 'Verbs', 'Resource names'], grants.map(function (g) {
      return function () { return [roleLink(g.role), list(g.rule.verbs), list(g.rule.resourceNames)]; };
    })));
    add(detail, el('h3', null, 'Subjects bound to those roles'));
    var rows = [], seen = new Set();
    grants.forEach(function (g) {
      if (seen.has(g.role)) return;
      seen.add(g.role);
      R[g.role].bindings.forEach(function (bi) {
        B[bi].subjects.forEach(function (si) { rows.push(function () { return [subjectLink(si), bindingLink(bi), scopeText(scopeOf(B[bi])), roleLink(g.role)]; }); });
      });
    });
    add(detail, table(['Subject', 'Binding', 'Scope', 'Role'], rows));
  }

  function showFinding(id) {
    var f = F.filter(function (x) { return x.id === id; })[0];
    if (!f) { add(detail, el('p', 'note', 'Not in this report: ' + id)); return; }
    add(detail, add(el('h2'), [badge(f.severity, f.severity), f.title]));
    add(detail, table(['Subject', 'Binding', 'Fix'], [function () {
      return [subjectById.has(f.subject) ? subjectLink(subjectById.get(f.subject)) : f.subject,
        bindingById.has(f.binding) ? bindingLink(bindingById.get(f.binding)) : f.binding, f.fix];
    }]));
    if (f.subject) { add(detail, el('h3', null, 'Escalation paths')); add(detail, graphView(f.subject)); }
  }

  function showNode(id) {
    var n = nodeById.get(id);
    add(detail, el('h2', null, n ? n.label : id));
    add(detail, graphView(id));
  }

  // The neighbourhood of one node: what it reaches in up to 3 moves (at most 40 nodes), in columns by distance.
  function graphView(id) {
    var wrap = el('div');
    if (!outEdges.has(id)) { wrap.appendChild(el('div', 'note', 'No escalation edge starts here.')); return wrap; }
    var depth = new Map([[id, 0]]), order = [id], edges = [], queue = [id];
    while (queue.length) {
      var cur = queue.shift(), d = depth.get(cur);
      if (d >= 3) continue;
      (outEdges.get(cur) || []).forEach(function (e) {
        if (!depth.has(e.to)) {
          if (order.length >= 40) return;
          depth.set(e.to, d + 1); order.push(e.to); queue.push(e.to);
        }
        edges.push(e);
      });
    }
    var cols = [], pos = new Map();
    order.forEach(function (n) { var d = depth.get(n); (cols[d] = cols[d] || []).push(n); pos.set(n, { x: 10 + d * 290, y: 10 + (cols[d].length - 1) * 50 }); });
    var W = 200, H = 28, ns = 'http://www.w3.org/2000/svg';
    var width = 20 + cols.length * 290, height = 20 + Math.max.apply(null, cols.map(function (c) { return c.length; })) * 50;
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'graph'); svg.setAttribute('width', width); svg.setAttribute('height', height);
    function sv(tag, attrs, text) {
      var e = document.createElementNS(ns, tag);
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
      if (text !== undefined) e.textContent = text;
      return e;
    }
    edges.forEach(function (e) {
      var a = pos.get(e.from), b = pos.get(e.to);
      if (!a || !b) return;
      var x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      var p = sv('path', { 'class': 'edge', d: 'M' + x1 + ',' + y1 + ' C' + (x1 + 40) + ',' + y1 + ' ' + (x2 - 40) + ',' + y2 + ' ' + x2 + ',' + y2 });
      p.appendChild(sv('title', {}, e.move + ': ' + e.evidence.binding + ' \u2192 ' + e.evidence.role + ' \u2192 ' + e.evidence.rule));
      svg.appendChild(p);
      svg.appendChild(sv('text', { 'class': 'move', x: (x1 + x2) / 2 - 30, y: (y1 + y2) / 2 - 4 }, e.move));
    });
    order.forEach(function (n) {
      var p = pos.get(n), node = nodeById.get(n);
      var g = sv('g', {});
      g.appendChild(sv('rect', { x: p.x, y: p.y, width: W, height: H, rx: 4, 'class': n === id ? 'center' : '' }));
      var label = node ? node.label : n;
      g.appendChild(sv('text', { x: p.x + 6, y: p.y + 18 }, label.length > 30 ? label.slice(0, 29) + '\u2026' : label));
      g.appendChild(sv('title', {}, (node ? node.kind + ' ' : '') + label));
      g.dataset.hash = subjectById.has(n) ? h('subject', n) : h('node', n);
      g.style.cursor = 'pointer';
      svg.appendChild(g);
    });
    wrap.appendChild(svg);
    wrap.appendChild(table(['From', 'Move', 'To', 'Binding', 'Role', 'Rule'], edges.map(function (e) {
      function nl(n) { return link(nodeById.has(n) ? nodeById.get(n).label : n, subjectById.has(n) ? h('subject', n) : h('node', n)); }
      return function () { return [nl(e.from), e.move, nl(e.to), e.evidence.binding, e.evidence.role, e.evidence.rule]; };
    })));
    return wrap;
  }

  setTab('subjects');
  show();
  document.body.setAttribute('data-ready', '1');
})();
