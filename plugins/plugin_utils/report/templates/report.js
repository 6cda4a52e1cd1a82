(() => {
  'use strict';
  const table = document.getElementById('hosts');
  const controls = document.getElementById('controls');
  const data = document.getElementById('host-data');
  const rows = document.getElementById('host-rows');
  if (!table || !controls || !data || !rows) return;
  // A host: its status, the text its row and findings show (lower case), then its key
  // for each column in the columns' order, null where it has none. Its row group's
  // markup, escaped where html_format.py wrote it, is the same place in `markup`.
  const hosts = JSON.parse(data.textContent);
  const markup = hosts.length ? rows.textContent.split('<>') : [];
  const STATUS = 0;
  const TEXT = 1;
  const KEYS = 2;
  // Rows are made for a few screenfuls of hosts and more as the reader scrolls to them:
  // a browser lays out every row it holds, and 20,000 of them take it tens of seconds.
  const STEP = 50;
  const noMatch = document.getElementById('no-match');
  const more = document.getElementById('more');
  const moreButton = document.getElementById('show-more');
  const text = document.getElementById('filter-text');
  const status = document.getElementById('filter-status');
  const shown = document.getElementById('shown');
  const headers = Array.from(table.tHead.rows[0].cells);
  // Without this script the controls would do nothing, so they appear only with it.
  controls.hidden = false;

  const bodies = new Map(); // a host's row group, made the first time it is shown
  const opened = new Set(); // the hosts whose findings are open
  let order = hosts.map((_, index) => index); // every host, in the order sorted
  let matching = order; // the hosts the filters let through, in that order
  let onScreen = [];
  let printing = false;

  function bodiesOf(indexes) {
    const missing = indexes.filter((index) => !bodies.has(index));
    if (missing.length) {
      // Parsed in a table, where row groups belong; the markup was escaped as written.
      const holder = document.createElement('table');
      holder.innerHTML = missing.map((index) => markup[index]).join('');
      Array.from(holder.tBodies).forEach((body, n) => {
        const index = missing[n];
        body.dataset.index = index;
        const details = body.querySelector('details');
        if (details) details.open = opened.has(index);
        bodies.set(index, body);
      });
    }
    return indexes.map((index) => bodies.get(index));
  }

  function append(list) {
    const fragment = document.createDocumentFragment();
    for (const body of list) fragment.appendChild(body);
    table.insertBefore(fragment, noMatch);
    onScreen = onScreen.concat(list);
  }

  function place(list) {
    for (const body of onScreen) body.remove();
    onScreen = [];
    append(list);
  }

  function showMore() {
    append(bodiesOf(matching.slice(onScreen.length, onScreen.length + STEP)));
    counted();
  }

  function counted() {
    const rest = matching.length - onScreen.length;
    noMatch.hidden = matching.length !== 0;
    more.hidden = rest === 0;
    moreButton.textContent = 'Show ' + Math.min(STEP, rest) + ' more (' + rest +
      ' not shown yet)';
    shown.textContent = 'Showing ' + matching.length + ' of ' + hosts.length + ' hosts';
  }

  function render() {
    place(bodiesOf(matching.slice(0, STEP)));
    counted();
  }

  // Near the end of the rows, the next ones are made; the button does it by hand.
  moreButton.addEventListener('click', showMore);
  if ('IntersectionObserver' in window) {
    const watch = new IntersectionObserver((entries) => {
      if (printing || !entries.some((entry) => entry.isIntersecting)) return;
      showMore();
      // Observing again reports at once whether the end is still near.
      watch.unobserve(more);
      watch.observe(more);
    }, {rootMargin: '0px 0px 800px 0px'});
    watch.observe(more);
  }

  function applyFilter() {
    // As the text it looks in: lower case, one space for each run of white space.
    const query = text.value.trim().toLowerCase().replace(/\s+/g, ' ');
    const wanted = status.value;
    matching = order.filter((index) => (!wanted || hosts[index][STATUS] === wanted) &&
      (!query || hosts[index][TEXT].includes(query)));
    render();
  }
  text.addEventListener('input', applyFilter);
  status.addEventListener('change', applyFilter);

  // A text column is compared by rank: the collator orders its keys once, and equal keys
  // share a rank, so that ties keep the report's order whichever way it is sorted.
  const collator = new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'});
  const ranks = new Map();
  function rankOf(column) {
    if (!ranks.has(column)) {
      const key = KEYS + column;
      const present = order.filter((index) => hosts[index][key] !== null)
        .sort((a, b) => collator.compare(hosts[a][key], hosts[b][key]) || a - b);
      const rank = new Array(hosts.length).fill(null);
      let current = 0;
      present.forEach((index, n) => {
        if (n && collator.compare(hosts[present[n - 1]][key], hosts[index][key]) !== 0) {
          current = n;
        }
        rank[index] = current;
      });
      ranks.set(column, rank);
    }
    return ranks.get(column);
  }

  let sortColumn = -1;
  let direction = 1;
  function sortBy(column) {
    direction = column === sortColumn ? -direction : 1;
    sortColumn = column;
    let keys;
    if (headers[column].dataset.type === 'number') {
      keys = hosts.map((host) => host[KEYS + column]);
    } else {
      keys = rankOf(column);
    }
    order = hosts.map((_, index) => index).sort((a, b) => {
      // Hosts without a value go last whichever way the column is sorted.
      if (keys[a] === null || keys[b] === null) {
        return (keys[a] === null) - (keys[b] === null) || a - b;
      }
      return direction * (keys[a] - keys[b]) || a - b;
    });
    headers.forEach((th, index) => {
      if (index === column) {
        th.setAttribute('aria-sort', direction === 1 ? 'ascending' : 'descending');
      } else {
        th.removeAttribute('aria-sort');
      }
    });
    applyFilter();
  }
  headers.forEach((th, column) => {
    const button = th.querySelector('button');
    if (button) button.addEventListener('click', () => sortBy(column));
  });

  // A host's findings stay open or closed as the reader left them, wherever it goes.
  table.addEventListener('toggle', (event) => {
    const body = event.target.closest('tbody.host');
    if (!body) return;
    const index = Number(body.dataset.index);
    if (event.target.open) opened.add(index); else opened.delete(index);
  }, true);

  function setOpen(open) {
    for (const index of matching) {
      if (open) opened.add(index); else opened.delete(index);
      const details = bodies.has(index) && bodies.get(index).querySelector('details');
      if (details) details.open = open;
    }
  }
  document.getElementById('expand-all').addEventListener('click', () => setOpen(true));
  document.getElementById('collapse-all').addEventListener('click', () => setOpen(false));

  // Paper cannot be clicked nor scrolled: print every host of the report, in the order
  // on screen and whatever the filters hide, each with its evidence; then restore.
  let closedBeforePrint = [];
  let shownBeforePrint = 0;
  window.addEventListener('beforeprint', () => {
    printing = true;
    shownBeforePrint = onScreen.length;
    const every = bodiesOf(order);
    closedBeforePrint = [];
    for (const body of every) {
      const details = body.querySelector('details');
      if (details && !details.open) {
        details.open = true;
        closedBeforePrint.push(details);
      }
    }
    place(every);
    noMatch.hidden = hosts.length !== 0;
    more.hidden = true;
  });
  window.addEventListener('afterprint', () => {
    for (const details of closedBeforePrint) details.open = false;
    closedBeforePrint = [];
    printing = false;
    place(bodiesOf(matching.slice(0, shownBeforePrint)));
    counted();
  });
  applyFilter();
})();
