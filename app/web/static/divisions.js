// Province, city and district as linked selects: choosing a province lists its cities, a city
// its districts (from /h5/divisions). Where the data has none, the field takes free text.
// Without this script the server still checks every choice and re-lists the right cities.
(function () {
  "use strict";
  var form = document.querySelector("form[data-divisions]");
  if (!form || !window.fetch) return;
  var province = form.querySelector("[name=province]");
  var known = {};  // province -> [{name, districts}]
  var PROMPTS = {
    city: ["请选择城市", "请先选择省份", "请填写城市"],
    district: ["请选择区县", "请先选择城市", "请填写区县（或镇、街道）"]
  };

  function field(name) { return form.querySelector("[name=" + name + "]"); }

  // Swap the field for a select of ``names`` (null: a text box), keeping its id and label.
  function offer(name, names, ready) {
    var old = field(name), next;
    if (names) {
      next = document.createElement("select");
      var blank = document.createElement("option");
      blank.value = "";
      blank.textContent = PROMPTS[name][ready ? 0 : 1];
      next.appendChild(blank);
      names.forEach(function (n) {
        var option = document.createElement("option");
        option.value = n;
        option.textContent = n;
        next.appendChild(option);
      });
    } else {
      next = document.createElement("input");
      next.type = "text";
      next.maxLength = 20;
      next.placeholder = PROMPTS[name][2];
    }
    next.name = name;
    next.id = old.id;
    next.required = true;
    old.parentNode.replaceChild(next, old);
    if (name === "city" && names) next.addEventListener("change", cityChosen);
    return next;
  }

  function load(name, then) {
    if (known[name]) { then(known[name]); return; }
    fetch("/h5/divisions?province=" + encodeURIComponent(name))
      .then(function (r) { return r.json(); })
      .then(function (data) { known[name] = data.cities; then(data.cities); });
  }

  function cityChosen() {
    var city = field("city").value;
    load(province.value, function (cities) {
      var found = cities.filter(function (c) { return c.name === city; })[0];
      if (!city) offer("district", [], false);
      else offer("district", found && found.districts.length ? found.districts : null, true);
    });
  }

  province.addEventListener("change", function () {
    if (!province.value) { offer("city", [], false); offer("district", [], false); return; }
    load(province.value, function (cities) {
      if (!cities.length) { offer("city", null); offer("district", null); return; }
      var city = offer("city", cities.map(function (c) { return c.name; }), true);
      if (cities.length === 1) {  // a municipality: its own city
        city.value = cities[0].name;
        cityChosen();
      } else {
        offer("district", [], false);
      }
    });
  });
  var city = field("city");
  if (city.tagName === "SELECT") city.addEventListener("change", cityChosen);
})();
