/* smedx: draws the regional dashboard charts from the JSON embedded in the page (no inline
   scripts: CSP). Every chart has its table beneath it, which carries the same figures for
   screen readers, phones and printing; a suppressed figure is null here and "—" there. */
(function () {
  'use strict';

  var source = document.getElementById('dash-data');
  if (!source || typeof echarts === 'undefined') { return; }
  var data;
  try { data = JSON.parse(source.textContent); } catch (e) { return; }
  if (!data.charts) { return; }

  var palette = ['#c0392b', '#e67e22', '#f1c40f', '#27ae60', '#1f5fa8', '#8e44ad', '#16a085', '#7f8c8d'];
  var blue = '#1f5fa8';
  var charts = [];

  function narrow() { return window.innerWidth < 560; }

  // Long category names are cut on a phone (the table beneath has them whole).
  function cut(max) {
    return function (name) {
      var limit = narrow() ? Math.min(max, 10) : max;
      return name.length > limit ? name.slice(0, limit - 1) + '…' : name;
    };
  }

  function option(c) {
    var pct = c.percent ? '%' : '';
    var tooltip = {
      trigger: c.kind === 'pie' ? 'item' : 'axis',
      axisPointer: { type: 'shadow' },
      valueFormatter: function (v) {
        return (v === null || v === undefined || v === '-') ? data.suppressed : v + pct;
      }
    };
    var multi = c.series.length > 1;
    var legend = multi ? { top: 0, type: 'scroll', textStyle: { fontSize: 11 } } : undefined;
    if (c.kind === 'pie') {
      var s = c.series[0];
      return {
        animation: false,
        color: palette.slice(3).concat(palette.slice(0, 3)),
        tooltip: tooltip,
        series: [{
          type: 'pie',
          name: s.name,
          radius: narrow() ? ['30%', '60%'] : ['35%', '68%'],
          label: { formatter: '{b}\n{c}', fontSize: 11 },
          data: c.categories.map(function (name, i) {
            return { name: name, value: s.data[i] };
          }).filter(function (d) { return d.value !== null && d.value > 0; })
        }]
      };
    }
    var horizontal = c.kind === 'hbar' || c.kind === 'hstack';
    var stack = c.kind === 'stack' || c.kind === 'hstack';
    var category = {
      type: 'category',
      data: c.categories,
      inverse: horizontal,
      axisLabel: horizontal ? { fontSize: 11, formatter: cut(24) } : { fontSize: 11, interval: 0, rotate: c.categories.length > 6 ? 30 : 0 }
    };
    var value = { type: 'value', axisLabel: { formatter: '{value}' + pct } };
    var series = c.series.map(function (s, i) {
      return {
        type: c.kind === 'line' ? 'line' : 'bar',
        name: s.name,
        data: s.data,
        stack: stack ? 'all' : undefined,
        connectNulls: false,
        itemStyle: { color: multi ? palette[i % palette.length] : blue },
        label: { show: !stack && !multi && c.categories.length <= 20, position: horizontal ? 'right' : 'top', fontSize: 10, formatter: '{c}' + pct }
      };
    });
    return {
      animation: false,
      tooltip: tooltip,
      legend: legend,
      grid: { left: 8, right: 24, top: multi ? 36 : 16, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: series
    };
  }

  data.charts.forEach(function (c) {
    var node = document.getElementById(c.id);
    if (!node) { return; }
    // Horizontal charts grow with their categories so names stay readable.
    if (c.kind === 'hbar' || c.kind === 'hstack') {
      var per = c.series.length > 1 && c.kind === 'hbar' ? 12 * c.series.length + 8 : 26;
      node.style.height = Math.max(220, 60 + per * c.categories.length) + 'px';
    }
    var chart = echarts.init(node, null, { renderer: 'svg' });
    chart.setOption(option(c));
    charts.push({ chart: chart, spec: c });
  });

  var last = narrow();
  function resize() {
    var now = narrow();
    charts.forEach(function (x) {
      if (now !== last) { x.chart.setOption(option(x.spec), true); }
      x.chart.resize();
    });
    last = now;
  }
  window.addEventListener('resize', resize);
  window.addEventListener('beforeprint', resize);
  window.addEventListener('afterprint', resize);
})();
