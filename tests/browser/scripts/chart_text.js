// Records the texts drawn on the chart's canvases (window.chartText) and each one drawn, wholly
// or in part, outside its canvas, which cuts it (window.chartTextCut), by wrapping fillText before
// the page's scripts run. Added by tests/browser/test_screenshots.py with page.add_init_script.
window.chartText = new Set();
window.chartTextCut = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
  if (this.canvas.isConnected && this.canvas.closest(".chart-box")) {
    const m = this.measureText(text);
    const t = this.getTransform();
    const left = t.a * (x - m.actualBoundingBoxLeft) + t.e;
    const right = t.a * (x + m.actualBoundingBoxRight) + t.e;
    const top = t.d * (y - m.actualBoundingBoxAscent) + t.f;
    const bottom = t.d * (y + m.actualBoundingBoxDescent) + t.f;
    const { width, height } = this.canvas;
    window.chartText.add(String(text));
    if (left < -0.5 || top < -0.5 || right > width + 0.5 || bottom > height + 0.5) {
      const box = [left, right, top, bottom].map(Math.round);
      window.chartTextCut.push(`${text} at x ${box[0]}..${box[1]}, y ${box[2]}..${box[3]} of ${width} x ${height}`);
    }
  }
  return fillText.call(this, text, x, y, ...rest);
};
