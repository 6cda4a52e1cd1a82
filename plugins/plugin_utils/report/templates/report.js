(() => {
  'use strict';
  const table = document.getElementById('hosts');
  const controls = document.getElementById('controls');
  if (!table || !controls) return;
  const bodies = Array.from(table.querySelectorAll('tbody.host'));
  const noMatch = document.getElementById('no-match');
  const text = document.getElementById('filter-text');
  const status = document.getElementById('filter-status');
  const shown = document.getElementById('shown');
  const headers = Array.from(table.tHead.rows[0].cells);
  // Without this script the controls would do nothing, so they appear only with it.
  controls.hidden = false;

  const searchText = (body) => {
    const findings = body.querySelector('.groups');
    return (body.rows[0].textContent + ' ' + (findings ? findings.textContent : ''))
      .toLowerCase();
  };
  const haystacks = new Map(bodies.map((body) => [body, searchText(body)]));

  function applyFilter() {
    const query = text.value.trim().toLowerCase();
    const wanted = status.value;
    let count = 0;
    for (const body of bodies) {
      const visible = (!wanted || body.dataset.status === wanted) &&
        (!query || haystacks.get(body).includes(query));
      body.hidden = !visible;
      if (visible) count += 1;
    }
    noMatch.hidden = count !== 0;
    shown.textContent = 'Showing ' + count + ' of ' + bodies.length + ' hosts';
  }
  text.addEventListener('input', applyFilter);
  status.addEventListener('change', applyFilter);

  const collator = new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'});
  let sortColumn = -1;
  let direction = 1;
  function sortBy(column) {
    direction = column === sortColumn ? -direction : 1;
    sortColumn = column;
    const numeric = headers[column].dataset.type === 'number';
    const keyed = bodies.map((body, index) => ({
      body, index, key: body.rows[0].cells[column].dataset.sort || '',
    }));
    keyed.sort((a, b) => {
      // Hosts without a value go last whichever way the column is sorted.
      if (a.key === '' || b.key === '') {
        return (a.key === '') - (b.key === '') || a.index - b.index;
      }
      const order = numeric ? Number(a.key) - Number(b.key) : collator.compare(a.key, b.key);
      return direction * order || a.index - b.index;
    });
    for (const {body} of keyed) table.insertBefore(body, noMatch);
    headers.forEach((th, index) => {
      if (index === column) {
        th.setAttribute('aria-sort', direction === 1 ? 'ascending' : 'descending');
      } else {
        th.removeAttribute('aria-sort');
      }
    });
  }
  headers.forEach((th, column) => {
    const button = th.querySelector('button');
    if (button) button.addEventListener('click', () => sortBy(column));
  });

  function setOpen(open) {
    for (const body of bodies) {
      const details = body.querySelector('details');
      if (details && !body.hidden) details.open = open;
    }
  }
  document.getElementById('expand-all').addEventListener('click', () => setOpen(true));
  document.getElementById('collapse-all').addEventListener('click', () => setOpen(false));

  // Paper cannot be clicked: print every visible host's evidence, then restore.
  let closedBeforePrint = [];
  window.addEventListener('beforeprint', () => {
    closedBeforePrint = Array.from(table.querySelectorAll('details:not([open])'));
    for (const details of closedBeforePrint) details.open = true;
  });
  window.addEventListener('afterprint', () => {
    for (const details of closedBeforePrint) details.open = false;
    closedBeforePrint = [];
  });
  applyFilter();
})();
