// The dashboard's charts (ECharts, vendored), drawn from the numbers the page carries in
// <script type="application/json" id="dashboard-data">. Each chart has a table of the same
// numbers beside it, so the page reads and prints without this script.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var font = '-apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
    var charts = [];

    function chart(id, option) {
      var el = document.getElementById(id);
      if (!el) return;
      var c = window.echarts.init(el, null, { renderer: "svg" });
      option.textStyle = { fontFamily: font };
      option.animation = false;
      c.setOption(option);
      charts.push(c);
    }

    chart("chart-lights", {
      tooltip: { trigger: "item" },
      series: [{
        type: "pie",
        radius: ["38%", "60%"],
        label: { formatter: "{b} {c}", overflow: "none" },
        data: data.lights.filter(function (d) { return d.value > 0; }).map(function (d) {
          return { name: d.name, value: d.value, itemStyle: { color: d.colour } };
        })
      }]
    });

    chart("chart-weeks", {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 32, right: 12, top: 32, bottom: 28 },
      xAxis: { type: "category", data: data.weeks.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: data.weeks.names.yellow, type: "bar", stack: "cards", data: data.weeks.yellow,
          itemStyle: { color: data.weeks.colours.yellow } },
        { name: data.weeks.names.red, type: "bar", stack: "cards", data: data.weeks.red,
          itemStyle: { color: data.weeks.colours.red } }
      ]
    });

    if (data.ages) chart("chart-ages", {
      tooltip: { trigger: "axis" },
      grid: { left: 32, right: 12, top: 16, bottom: 28 },
      xAxis: { type: "category", data: data.ages.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: data.ages.values, itemStyle: { color: data.ages.colour },
        label: { show: true, position: "top" } }]
    });

    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
