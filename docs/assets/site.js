/*
 * CivicTrust site script: the search box and the page contents. No framework, no
 * requests to other sites. Everything on the page works without it except search.
 *
 * Search loads MiniSearch's browser build and the index written at build time as two
 * <script> tags on first use (a <script> works when the site is opened from disk, where
 * fetching a JSON file is refused), then shows results while the reader types.
 */
(() => {
  'use strict';

  /** The site's root folder, from this script's own URL (assets/site.js). */
  const root = new URL('..', document.currentScript.src);

  // ---- Contents: beside the text on wide screens, a collapsed box above it otherwise.
  const toc = document.querySelector('.toc details');
  if (toc !== null) {
    const wide = window.matchMedia('(min-width: 75rem)');
    const sync = () => { toc.open = wide.matches; };
    sync();
    wide.addEventListener('change', sync);

    // Marks the entry of the section being read: the last heading above the upper third.
    const links = [...toc.querySelectorAll('a')];
    const headings = links.map((a) => document.getElementById(decodeURIComponent(a.hash.slice(1))));
    let marked = -1;
    let queued = false;
    const mark = () => {
      queued = false;
      const line = window.innerHeight / 3;
      let at = -1;
      headings.forEach((h, i) => {
        if (h !== null && h.getBoundingClientRect().top < line) at = i;
      });
      if (at === marked) return;
      links[marked]?.removeAttribute('aria-current');
      links[at]?.setAttribute('aria-current', 'location');
      marked = at;
    };
    window.addEventListener('scroll', () => {
      if (!queued) window.requestAnimationFrame(mark);
      queued = true;
    }, { passive: true });
    mark();
  }

  // ---- Search
  const input = document.getElementById('site-search');
  const list = document.getElementById('site-search-results');
  const status = document.getElementById('site-search-status');
  if (input === null || list === null || status === null) return;

  /** Results shown per group (chapters, API). */
  const MAX_EACH = 6;
  let engine;
  let loading;

  function loadScript(path) {
    return new Promise((resolve, reject) => {
      const tag = document.createElement('script');
      tag.src = new URL(path, root).href;
      tag.onload = resolve;
      tag.onerror = () => reject(new Error(`cannot load ${path}`));
      document.head.append(tag);
    });
  }

  function ready() {
    loading ??= Promise.all([loadScript('assets/minisearch.js'), loadScript('assets/search-index.js')]).then(() => {
      const data = window.CIVICTRUST_SEARCH;
      engine = window.MiniSearch.loadJS(data.index, data.options);
    });
    return loading;
  }

  function say(text) {
    status.textContent = text;
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
  }

  function span(className, text) {
    const el = document.createElement('span');
    el.className = className;
    el.textContent = text;
    return el;
  }

  function isPage(r) {
    return r.kind === 'section' || r.kind === 'page';
  }

  function result(r) {
    const link = document.createElement('a');
    link.href = new URL(r.url, root).href;
    const head = document.createElement('span');
    head.className = 'result-head';
    const kind = !isPage(r) ? r.kind : r.url.startsWith('weeks/') ? 'chapter' : 'page';
    head.append(span('result-title', r.title), span('result-kind', kind));
    link.append(head, span('result-parent', r.parent));
    if (r.excerpt) link.append(span('result-excerpt', r.excerpt));
    const item = document.createElement('li');
    item.append(link);
    return item;
  }

  function group(label, results) {
    if (results.length === 0) return [];
    const heading = document.createElement('li');
    heading.className = 'result-group';
    heading.setAttribute('aria-hidden', 'true');
    heading.textContent = label;
    return [heading, ...results.map(result)];
  }

  // Chapters and the API are ranked apart, so the many symbols of a topic never push its
  // chapter out of the list: the best few of each, chapters first.
  function show() {
    const query = input.value.trim();
    if (query.length < 2) {
      close();
      say('');
      return;
    }
    const all = engine.search(query);
    const pages = all.filter(isPage).slice(0, MAX_EACH);
    const symbols = all.filter((r) => !isPage(r)).slice(0, MAX_EACH);
    list.replaceChildren(...group('Course', pages), ...group('API reference', symbols));
    const shown = pages.length + symbols.length;
    list.hidden = shown === 0;
    input.setAttribute('aria-expanded', String(shown > 0));
    say(shown === 0 ? `No results for “${query}”` : `${all.length} result${all.length === 1 ? '' : 's'}, the best ${shown} shown`);
  }

  function update() {
    if (engine !== undefined) {
      show();
      return;
    }
    say('Loading the index…');
    ready().then(show, (error) => say(`Search is unavailable: ${error.message}`));
  }

  function links() {
    return [...list.querySelectorAll('a')];
  }

  input.setAttribute('aria-expanded', 'false');
  input.addEventListener('focus', () => { ready().catch(() => {}); }, { once: true });
  input.addEventListener('input', update);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') {
      links()[0]?.focus();
      event.preventDefault();
    } else if (event.key === 'Enter') {
      links()[0]?.click();
    } else if (event.key === 'Escape') {
      input.value = '';
      close();
      say('');
    }
  });
  list.addEventListener('keydown', (event) => {
    const all = links();
    const at = all.indexOf(document.activeElement);
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const next = at + (event.key === 'ArrowDown' ? 1 : -1);
      (next < 0 ? input : all[Math.min(next, all.length - 1)]).focus();
      event.preventDefault();
    } else if (event.key === 'Escape') {
      input.focus();
      close();
    }
  });
  list.addEventListener('click', () => close());
  document.addEventListener('click', (event) => {
    if (!event.target.closest('.search')) close();
  });
})();
