// Ink boxes of the visible SVG text of every chart; pairs of texts that overlap or come
// closer than 1 px. Used by tests/test_browser.py: [[chart id, texts, [[a, b], ...]], ...]
() => {
  const ctx = document.createElement('canvas').getContext('2d');
  function visible(t) {
    for (let e = t; e && e.tagName !== 'svg'; e = e.parentNode) {
      if (e.getAttribute && (e.getAttribute('opacity') === '0' || e.getAttribute('fill-opacity') === '0')) return false;
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
    }
    return true;
  }
  function ink(t) {
    const text = t.textContent, n = t.getNumberOfChars();
    if (!text.trim() || n === 0) return null;
    const s = getComputedStyle(t);
    ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    const m = ctx.measureText(text.replace(/\s+/g, ' '));
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const a = t.getStartPositionOfChar(i), b = t.getEndPositionOfChar(i);
      x0 = Math.min(x0, a.x, b.x); x1 = Math.max(x1, a.x, b.x);
      y0 = Math.min(y0, a.y); y1 = Math.max(y1, a.y);
    }
    y0 -= m.actualBoundingBoxAscent; y1 += m.actualBoundingBoxDescent;
    const ctm = t.getScreenCTM(), p = t.ownerSVGElement.createSVGPoint();
    const xs = [], ys = [];
    for (const [x, y] of [[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) {
      p.x = x; p.y = y; const q = p.matrixTransform(ctm); xs.push(q.x); ys.push(q.y);
    }
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys), text];
  }
  return [...document.querySelectorAll('figure.chart')].map(f => {
    const boxes = [...f.querySelectorAll('.chart-view svg text')].filter(visible).map(ink).filter(b => b);
    const bad = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j], pad = 1;  // px
      if (a[0] < b[2] + pad && b[0] < a[2] + pad && a[1] < b[3] + pad && b[1] < a[3] + pad) bad.push([a[4], b[4]]);
    }
    return [f.id, boxes.length, bad];
  });
}
