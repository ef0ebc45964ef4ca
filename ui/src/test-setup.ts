// Test setup (vite.config.ts, test.setupFiles). jsdom lays nothing out, and its Range has no
// rects, which CodeMirror measures text with. Empty rects, as jsdom's elements give, are
// enough for it to run: tests check the state and the DOM, never pixels.
const emptyRect = { x: 0, y: 0, top: 0, left: 0, bottom: 0, right: 0, width: 0, height: 0, toJSON: () => ({}) };

Object.assign(Range.prototype, {
  getBoundingClientRect: () => emptyRect,
  getClientRects: () => Object.assign([], { item: () => null }),
});
