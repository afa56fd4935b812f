import * as L from 'leaflet';

/**
 * A Leaflet canvas renderer that repaints only the small rectangles around the markers that changed.
 *
 * Leaflet's own canvas repaints the one rectangle that bounds every changed path. In an alert storm the
 * changed markers are scattered over the city, so that rectangle is the whole map and every redraw
 * repaints all 5,000 markers: in a browser without a GPU that is 100 to 250 ms of rasterising when the
 * frame is committed, twice a second (measured, docs/console.md). Here each changed marker keeps its own
 * rectangle (its old and new shape); a redraw clears each one and draws again, clipped to it, only the
 * markers that overlap it, in Leaflet's draw order: a few markers per change instead of all of them.
 * Full redraws (pan, zoom, resize) and redraws that touch a large part of the map stay Leaflet's.
 *
 * This leans on Leaflet 1.9's canvas internals (`_redraw`, `_extendRedrawBounds`, the `_drawFirst` list):
 * the console pins Leaflet ^1.9 and the e2e and smoothness runs draw through it.
 */
/** beyond this many changed paths in one redraw, Leaflet's one rectangle is cheaper */
const MAX_RECTS = 400;
/** bucket size for matching markers to dirty rectangles, in pixels */
const GRID = 64;
const FRINGE = 2;

interface PathInternals {
  _pxBounds?: L.Bounds;
  _updatePath(): void;
  options: L.PathOptions;
}
interface DrawOrder {
  layer: PathInternals;
  next: DrawOrder | null;
}
interface CanvasInternals {
  _redrawBounds: L.Bounds | null;
  _redrawRequest: number | null;
  _ctx: CanvasRenderingContext2D;
  _drawFirst: DrawOrder | null;
  _drawing: boolean;
  _extendRedrawBounds(layer: PathInternals): void;
  _redraw(): void;
}
/** whole pixels, so clipping is exact and cheap (no anti-aliased clip edge) */
interface DirtyRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  layers: PathInternals[];
}
interface DirtyRectCanvas extends CanvasInternals {
  _dirtyRects?: Map<PathInternals, DirtyRect>;
}

const base = L.Canvas.prototype as unknown as CanvasInternals;
// grid indices stay within ±2^15 at any zoom the map allows (layer points are relative to the view)
const gridKey = (gx: number, gy: number) => (gx + 0x8000) * 0x10000 + (gy + 0x8000);

const DirtyRectCanvasClass = L.Canvas.extend({
  _extendRedrawBounds(this: DirtyRectCanvas, layer: PathInternals) {
    base._extendRedrawBounds.call(this, layer);
    const px = layer._pxBounds;
    if (!px) return;
    // the same padding as Leaflet's: the stroke reaches past the path's bounds
    const pad = (layer.options.weight ?? 0) + 1;
    const x0 = Math.floor(px.min!.x - pad),
      y0 = Math.floor(px.min!.y - pad);
    const x1 = Math.ceil(px.max!.x + pad),
      y1 = Math.ceil(px.max!.y + pad);
    this._dirtyRects ??= new Map();
    const rects = this._dirtyRects;
    const known = rects.get(layer);
    // a restyle reports the old shape, then the new one: one rectangle covers both
    if (known)
      Object.assign(known, {
        x0: Math.min(known.x0, x0),
        y0: Math.min(known.y0, y0),
        x1: Math.max(known.x1, x1),
        y1: Math.max(known.y1, y1),
      });
    else rects.set(layer, { x0, y0, x1, y1, layers: [] });
  },

  _redraw(this: DirtyRectCanvas) {
    const rects = this._dirtyRects;
    // no bounds: Leaflet asks for everything (after a pan, a zoom, a resize)
    if (!this._redrawBounds || !rects || rects.size === 0 || rects.size > MAX_RECTS) {
      rects?.clear();
      base._redraw.call(this);
      return;
    }
    this._redrawRequest = null;
    const list = [...rects.values()];
    rects.clear();
    const grid = new Map<number, DirtyRect[]>();
    for (const rect of list) {
      for (let gx = Math.floor(rect.x0 / GRID); gx <= Math.floor(rect.x1 / GRID); gx++) {
        for (let gy = Math.floor(rect.y0 / GRID); gy <= Math.floor(rect.y1 / GRID); gy++) {
          const key = gridKey(gx, gy);
          const bucket = grid.get(key);
          if (bucket) bucket.push(rect);
          else grid.set(key, [rect]);
        }
      }
    }
    // every marker goes to each rectangle it overlaps, once, in draw order
    for (let order = this._drawFirst; order; order = order.next) {
      const layer = order.layer;
      const px = layer._pxBounds;
      if (!px) continue;
      // a path's anti-aliased edge reaches a pixel past its bounds: a neighbour that close is redrawn too
      const x0 = px.min!.x - FRINGE,
        y0 = px.min!.y - FRINGE,
        x1 = px.max!.x + FRINGE,
        y1 = px.max!.y + FRINGE;
      for (let gx = Math.floor(x0 / GRID); gx <= Math.floor(x1 / GRID); gx++) {
        for (let gy = Math.floor(y0 / GRID); gy <= Math.floor(y1 / GRID); gy++) {
          for (const rect of grid.get(gridKey(gx, gy)) ?? []) {
            if (x1 < rect.x0 || x0 > rect.x1 || y1 < rect.y0 || y0 > rect.y1) continue;
            if (rect.layers[rect.layers.length - 1] !== layer) rect.layers.push(layer);
          }
        }
      }
    }
    // Rectangles may overlap: each is cleared and fully redrawn in turn, so the last one leaves the right
    // pixels in the overlap.
    const ctx = this._ctx;
    this._drawing = true;
    for (const rect of list) {
      const width = rect.x1 - rect.x0,
        height = rect.y1 - rect.y0;
      ctx.save();
      ctx.beginPath();
      ctx.rect(rect.x0, rect.y0, width, height);
      ctx.clip();
      ctx.clearRect(rect.x0, rect.y0, width, height);
      for (const layer of rect.layers) layer._updatePath();
      ctx.restore();
    }
    this._drawing = false;
    this._redrawBounds = null;
  },
}) as unknown as new (
  options?: L.RendererOptions,
) => L.Canvas;

/** A drop-in for `L.canvas(options)` that redraws changed markers only. */
export function dirtyRectCanvas(options?: L.RendererOptions): L.Canvas {
  return new DirtyRectCanvasClass(options);
}
