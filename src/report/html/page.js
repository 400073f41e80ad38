// dialtone report: the filter over test ids, and a self-test run by `#selftest` (the
// report's browser test reads its outcome from <pre id="selftest">).
(function () {
  var box = document.getElementById('filter');
  var rows = function () { return Array.prototype.slice.call(document.querySelectorAll('[data-id]')); };
  function apply() {
    var q = (box.value || '').trim().toLowerCase();
    var shown = 0;
    rows().forEach(function (r) {
      var hit = q === '' || r.getAttribute('data-id').toLowerCase().indexOf(q) >= 0;
      r.style.display = hit ? '' : 'none';
      if (hit) { shown++; }
    });
    document.getElementById('shown').textContent = shown + ' of ' + rows().length + ' shown';
  }
  if (box) { box.addEventListener('input', apply); apply(); }
  if (location.hash !== '#selftest') { return; }
  var out = {};
  var banner = document.getElementById('banner');
  out.banner = banner ? banner.textContent.trim() : null;
  var cells = document.querySelectorAll('td.cell');
  out.cells = cells.length;
  var grids = document.querySelectorAll('[data-cells]');
  out.cellsDeclared = 0;
  grids.forEach(function (g) { out.cellsDeclared += parseInt(g.getAttribute('data-cells'), 10); });
  var bad = document.querySelector('td.cell.fail a, td.cell.error a');
  out.failingCellTarget = null;
  if (bad) {
    var target = document.getElementById(bad.getAttribute('href').slice(1));
    out.failingCellTarget = target ? target.getAttribute('data-evidence') : 'missing';
  }
  var all = rows().length;
  var probe = rows()[0] ? rows()[0].getAttribute('data-id') : '';
  box.value = probe;
  box.dispatchEvent(new Event('input'));
  out.filterShown = rows().filter(function (r) { return r.style.display !== 'none'; }).length;
  out.filterExpected = rows().filter(function (r) {
    return r.getAttribute('data-id').toLowerCase().indexOf(probe.toLowerCase()) >= 0;
  }).length;
  out.rows = all;
  box.value = '';
  box.dispatchEvent(new Event('input'));
  out.afterClear = rows().filter(function (r) { return r.style.display !== 'none'; }).length;
  out.external = document.querySelectorAll('[src], link[href]').length;
  var pre = document.createElement('pre');
  pre.id = 'selftest';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
