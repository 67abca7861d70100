/* smedx: draws the result charts from the JSON embedded in the page (no inline scripts: CSP).
   The SVG renderer is used so the charts print sharply. Everything else on the page works
   without JavaScript. */
(function () {
  'use strict';

  // "Print / save as PDF" buttons stay hidden without JavaScript.
  var buttons = document.querySelectorAll('[data-print]');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener('click', function () { window.print(); });
  }

  var source = document.getElementById('chart-data');
  if (!source || typeof echarts === 'undefined') { return; }
  var data;
  try { data = JSON.parse(source.textContent); } catch (e) { return; }

  var charts = [];
  function init(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    var chart = echarts.init(node, null, { renderer: 'svg' });
    charts.push(chart);
    return chart;
  }

  var blue = '#1f5fa8';

  if (data.gauge) {
    var g = init('chart-gauge');
    if (g) {
      g.setOption({
        animation: false,
        series: [{
          type: 'gauge',
          min: 0,
          max: 100,
          splitNumber: 5,
          radius: '95%',
          center: ['50%', '58%'],
          axisLine: { lineStyle: { width: 14, color: [[0.2, '#c0392b'], [0.4, '#e67e22'], [0.6, '#f1c40f'], [0.8, '#27ae60'], [1, '#1e8449']] } },
          pointer: { width: 5 },
          axisTick: { distance: -14, length: 6 },
          splitLine: { distance: -14, length: 14 },
          axisLabel: { distance: 18, fontSize: 11 },
          title: { offsetCenter: [0, '70%'], fontSize: 16, fontWeight: 'bold' },
          detail: { valueAnimation: false, formatter: '{value}', offsetCenter: [0, '40%'], fontSize: 22 },
          data: [{ value: data.gauge.score, name: data.gauge.level }]
        }]
      });
    }
  }

  if (data.radar) {
    var r = init('chart-radar');
    if (r) {
      // Long axis names (English) wrap at a space, so they fit beside the radar on a phone.
      var wrap = function (name) {
        if (name.length <= 10 || name.indexOf(' ') < 0) { return name; }
        var mid = name.lastIndexOf(' ', Math.ceil(name.length / 2) + 2);
        if (mid <= 0) { mid = name.indexOf(' '); }
        return name.slice(0, mid) + '\n' + name.slice(mid + 1);
      };
      r.setOption({
        animation: false,
        radar: {
          indicator: data.radar.indicators,
          radius: '50%',
          axisName: { color: '#333', fontSize: 11, formatter: wrap }
        },
        series: [{
          type: 'radar',
          name: data.radar.label,
          data: [{ value: data.radar.values, name: data.radar.label, areaStyle: { opacity: 0.25 } }],
          lineStyle: { color: blue },
          itemStyle: { color: blue },
          label: { show: true, fontSize: 10 }
        }]
      });
    }
  }

  if (data.bar) {
    var b = init('chart-bar');
    if (b) {
      // Horizontal bars: 16 names read well on a phone.
      b.setOption({
        animation: false,
        grid: { left: 8, right: 16, top: 8, bottom: 24, containLabel: true },
        xAxis: { type: 'value', min: 0, max: 4, interval: 1 },
        yAxis: { type: 'category', data: data.bar.names, inverse: true, axisLabel: { fontSize: 11 } },
        series: [{
          type: 'bar',
          name: data.bar.label,
          data: data.bar.values,
          itemStyle: { color: blue },
          label: { show: true, position: 'right' }
        }]
      });
    }
  }

  function resize() { for (var j = 0; j < charts.length; j++) { charts[j].resize(); } }
  window.addEventListener('resize', resize);
  window.addEventListener('beforeprint', resize);
  window.addEventListener('afterprint', resize);
})();
