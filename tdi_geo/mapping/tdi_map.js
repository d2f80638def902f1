// tdi-geo: the national map, drawn with Leaflet from two JSON documents
// (tdi_geo/mapping/leaflet.py: base_spec and layer_spec).
//
// This file is fixed code. Data only ever reaches the page as text
// (textContent, text nodes) or as Leaflet options; nothing from the data is
// parsed as HTML or evaluated, so a territory name is shown exactly as written.

const TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
const TILE_ATTRIBUTION = "\u00a9 contributeurs OpenStreetMap";

const loading = {};

// Load Leaflet's script or stylesheet once per page.
function load(url, css) {
    if (!loading[url]) {
        loading[url] = new Promise((resolve, reject) => {
            const el = document.createElement(css ? "link" : "script");
            if (css) { el.rel = "stylesheet"; el.href = url; } else { el.src = url; }
            el.onload = resolve;
            el.onerror = () => { delete loading[url]; reject(new Error("Leaflet introuvable : " + url)); };
            document.head.appendChild(el);
        });
    }
    return loading[url];
}

// Inverse of tdi_geo.mapping.paths.encode_paths for one path: [[lat, lng], ...].
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const SYMBOL = new Int8Array(128);
for (let s = 0; s < 64; s++) { SYMBOL[ALPHABET.charCodeAt(s)] = s; }

function decode(text, k) {
    const out = [], scale = Math.pow(10, k);
    let i = 0, x = 0, y = 0;
    function next() {
        let result = 0, shift = 0, b;
        do { b = SYMBOL[text.charCodeAt(i++)]; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
        return (result & 1) ? ~(result >> 1) : (result >> 1);
    }
    while (i < text.length) { x += next(); y += next(); out.push([y / scale, x / scale]); }
    return out;
}

// Polygons: parts -> rings -> [lat, lng].
function decodeParts(parts, k) {
    return parts.map((part) => part.map((ring) => decode(ring, k)));
}

// An element holding `text` as text, never as markup.
function textNode(tag, className, text) {
    const el = document.createElement(tag);
    if (className) { el.className = className; }
    el.textContent = text == null ? "" : String(text);
    return el;
}

// --- provenance patterns ----------------------------------------------------
// A territory that is not a documented fact is filled with an SVG pattern: its
// colour (exactly the legend's) with sparse dots (inferred) or hatching
// (illustrative) over it, in screen pixels, so it shows at every zoom. One
// <pattern> per (kind, colour), made on first use in a hidden <svg> of the page.
const SVG_NS = "http://www.w3.org/2000/svg";
const HEX = /^#[0-9a-fA-F]{6}$/;

function svgNode(tag, attributes) {
    const el = document.createElementNS(SVG_NS, tag);
    Object.entries(attributes).forEach(([name, value]) => el.setAttribute(name, String(value)));
    return el;
}

// Dark ink on light colours, white ink on dark ones (relative luminance).
function inkFor(color) {
    const c = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16) / 255)
        .map((v) => (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2] > 0.3 ? "#1f1f1f" : "#ffffff";
}

function patternDefs() {
    let defs = document.getElementById("tdi-pattern-defs");
    if (!defs) {
        const svg = svgNode("svg", {width: 0, height: 0, "aria-hidden": "true", focusable: "false"});
        svg.style.position = "absolute";
        defs = svgNode("defs", {id: "tdi-pattern-defs"});
        svg.appendChild(defs);
        document.body.appendChild(svg);
    }
    return defs;
}

// The fill of a shape: its colour, or url(#…) of its pattern over that colour.
export function patternFill(kind, color) {
    if (!kind || !HEX.test(color || "")) { return color; }
    const id = "tdi-" + (kind === "dots" ? "dots" : "hatch") + "-" + color.slice(1).toLowerCase();
    if (!document.getElementById(id)) {
        const ink = inkFor(color), size = kind === "dots" ? 7 : 8;
        const pattern = svgNode("pattern", {id: id, patternUnits: "userSpaceOnUse", width: size, height: size});
        if (kind !== "dots") { pattern.setAttribute("patternTransform", "rotate(45)"); }
        pattern.appendChild(svgNode("rect", {width: size, height: size, fill: color}));
        pattern.appendChild(kind === "dots"
            ? svgNode("circle", {cx: 3.5, cy: 3.5, r: 1.3, fill: ink, "fill-opacity": 0.8})
            : svgNode("rect", {x: 0, y: 0, width: 1.6, height: size, fill: ink, "fill-opacity": 0.7}));
        patternDefs().appendChild(pattern);
    }
    return "url(#" + id + ")";
}

// A legend swatch: a colour, or a pattern over white.
function swatch(color, kind) {
    const el = textNode("i", "tdi-sw", "");
    if (kind) {
        const svg = svgNode("svg", {width: 16, height: 12, "aria-hidden": "true", focusable: "false"});
        svg.appendChild(svgNode("rect", {width: 16, height: 12, fill: patternFill(kind, "#ffffff")}));
        el.appendChild(svg);
        el.style.border = "1.5px dashed #333333";
    } else {
        el.style.background = color;
        el.style.border = "1px solid #333333";
    }
    return el;
}

// The stable part: context borders, DROM boxes and their labels.
export function drawBase(L, box, base) {
    const map = L.map(box, {
        zoomSnap: 0.25, zoomDelta: 0.5, minZoom: 4, maxZoom: 12,
        zoomControl: false, attributionControl: !!base.tiles,
        // Leaflet's keyboard handler focuses the map on mousedown, which makes the
        // browser scroll the page when the map is partly off-screen: the click then
        // lands elsewhere. Territories stay reachable from the « Territoire » list.
        keyboard: false,
        // On a touch screen one finger scrolls the page (two fingers zoom and move the map):
        // a map that takes most of a phone's screen must not trap the page's scrolling.
        dragging: !L.Browser.mobile,
    });
    // Borders above the territories (whose fills are opaque), never catching a click.
    map.createPane("tdiContext").style.zIndex = 450;
    map.getPane("tdiContext").style.pointerEvents = "none";
    L.control.zoom({position: "topright", zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer"}).addTo(map);
    if (base.tiles) {
        L.tileLayer(TILE_URL, {attribution: TILE_ATTRIBUTION, maxZoom: 19}).addTo(map);
    }
    base.lines.forEach((line) => {
        const paths = [];
        line.parts.forEach((part) => part.forEach((path) => paths.push(decode(path, base.k))));
        if (paths.length) {
            L.polyline(paths, Object.assign({}, line.style, {interactive: false, pane: "tdiContext"})).addTo(map);
        }
    });
    const labels = base.labels.map(([latlng, text, corner]) => {
        const span = textNode("span", "", text);
        const icon = L.divIcon({className: "tdi-inset-label", html: span, iconSize: null, iconAnchor: [-3, -2]});
        L.marker(latlng, {icon: icon, interactive: false, keyboard: false}).addTo(map);
        return {span: span, latlng: latlng, corner: corner, text: String(text)};
    });
    // Each DROM label stays inside its box's label strip: its size follows the zoom.
    const fitLabels = () => labels.forEach((label) => {
        if (!label.corner) { return; }
        const a = map.latLngToContainerPoint(label.latlng), b = map.latLngToContainerPoint(label.corner);
        const size = Math.min(12, 0.8 * (b.y - a.y), (b.x - a.x - 6) / (0.58 * label.text.length));
        label.span.style.fontSize = Math.max(6, size).toFixed(1) + "px";
    });
    map.on("zoomend viewreset", fitLabels);
    map.fitBounds(base.bounds);
    fitLabels();
    return map;
}

function tooltip(layer, f) {
    const t = layer.texts, box = document.createElement("div");
    const line = (text, className) => box.appendChild(textNode("div", className, text));
    line(f[3], "tdi-tip-name");
    line(layer.regions[f[4]]);
    line(layer.label + " : " + f[5]);
    if (f[6]) { line(t.status + " : " + f[6]); }
    if (f[2] & 2) { line(t.fragile); }
    if (f[2] & 4) { line(t.partial, "tdi-tip-note"); }
    if (f[2] & 1) { line(t.illustrative, "tdi-tip-note"); } else { line(layer.provenances[f[7]]); }
    return box;
}

// The legend: every colour drawn on the map, then how provenance is drawn.
function legendElement(L, legend) {
    const div = textNode("div", "tdi-legend", "");
    div.setAttribute("data-testid", "tdi-legend");
    div.setAttribute("role", "group");  // a named group: screen readers announce « Légende » before its rows
    div.setAttribute("aria-label", "Légende");
    div.appendChild(textNode("div", "tdi-legend-title", legend.title));
    const row = (sw, label, data) => {
        const r = textNode("div", "tdi-row", "");
        Object.entries(data).forEach(([name, value]) => r.setAttribute(name, value));
        r.appendChild(sw);
        r.appendChild(textNode("span", "", label));
        div.appendChild(r);
    };
    legend.items.forEach(([color, label]) => row(swatch(color, null), label, {"data-color": color}));
    if (legend.provenance && legend.provenance.length) {
        div.appendChild(textNode("div", "tdi-legend-title tdi-legend-sub", legend.provenance_title));
        legend.provenance.forEach(([kind, label]) => row(swatch("#ffffff", kind), label,
                                                          {"data-pattern": kind || "plain"}));
    }
    if (legend.note) { div.appendChild(textNode("div", "tdi-note", legend.note)); }
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
}

// On a narrow map the legend goes under it (it would hide half of it); else in its corner.
const NARROW = 600;

function legendControl(L, map, legend) {
    const div = legendElement(L, legend);
    if (map.getContainer().clientWidth < NARROW) {
        div.classList.add("tdi-legend-below");
        return {addTo: () => map.getContainer().after(div), remove: () => div.remove()};
    }
    const control = L.control({position: "bottomright"});
    control.onAdd = () => div;
    return control;
}

// The view: territories with tooltips, the selection outline and the legend.
// Returns a feature group; the legend comes and goes with it.
export function drawLayer(L, map, layer, onClick) {
    const group = L.featureGroup();
    // Each style once: its pattern (if any) becomes the fill.
    const styles = layer.styles.map((s) => {
        const style = Object.assign({}, s, {fillColor: patternFill(s.pattern, s.fillColor)});
        delete style.pattern;
        return style;
    });
    layer.features.forEach((f) => {
        const style = styles[f[1]];
        const poly = L.polygon(decodeParts(f[8], layer.k), Object.assign(
            {className: "tdi-territory" + ((f[2] & 1) ? " tdi-illustrative" : "") + ((f[2] & 8) ? " tdi-inferred" : "")},
            style));
        poly.bindTooltip(() => tooltip(layer, f), {sticky: true});
        poly.on("mouseover", () => poly.setStyle({weight: 2.5, color: "#000000"}));
        poly.on("mouseout", () => poly.setStyle(style));
        poly.on("add", () => {
            const el = poly.getElement();
            if (el) {
                el.setAttribute("data-tdi-id", f[0]);
                // Leaflet makes each shape with a tooltip a Tab stop: 144 unnamed stops
                // before the rest of the page. The keyboard path to the same data is the
                // table below the map (and the « Territoire » list): out of the Tab order.
                el.setAttribute("tabindex", "-1");
            }
        });
        poly.addTo(group);
    });
    if (layer.selected) {
        L.polygon(decodeParts(layer.selected, layer.k), Object.assign({}, layer.selected_style, {interactive: false}))
            .addTo(group);
    }
    // Towns that name a région view: a dot and the name, as text, above the shapes.
    (layer.towns || []).forEach(([latlng, name]) => {
        L.circleMarker(latlng, {radius: 2.5, color: "#222222", weight: 1, fillColor: "#ffffff", fillOpacity: 1,
                                interactive: false, pane: "tdiContext"}).addTo(group);
        const icon = L.divIcon({className: "tdi-town", html: textNode("span", "", name), iconSize: null,
                                iconAnchor: [-5, 8]});
        L.marker(latlng, {icon: icon, interactive: false, keyboard: false}).addTo(group);
    });
    const legend = legendControl(L, map, layer.legend);
    group.on("add", () => legend.addTo(map));
    group.on("remove", () => legend.remove());
    if (onClick) { group.on("click", (e) => onClick(e.latlng)); }
    return group;
}

// Zoom to the view (or to its fixed bounds) with a margin, never under the legend:
// on a wide map the legend's column stays free, on a narrower one its rows.
export function fitView(L, map, layer, group) {
    const bounds = layer.fit.bounds ? L.latLngBounds(layer.fit.bounds) : group.getBounds();
    const legend = map.getContainer().querySelector(".tdi-legend");
    if (!bounds.isValid()) { return; }
    let right = 16, bottom = 16;
    if (legend) {  // whichever side leaves the larger map
        const w = legend.offsetWidth + 12, h = legend.offsetHeight + 12;
        const beside = map.getBoundsZoom(bounds, false, L.point(32 + w, 32));
        const above = map.getBoundsZoom(bounds, false, L.point(32, 32 + h));
        if (beside >= above) { right += w; } else { bottom += h; }
    }
    {
        map.fitBounds(bounds, {paddingTopLeft: [16, 16], paddingBottomRight: [right, bottom], maxZoom: 10});
    }
}

// A standalone page (tdi_geo.mapping.leaflet.standalone_html): data in
// <script type="application/json"> elements, Leaflet already loaded.
export function drawStandalone(box) {
    const read = (id) => JSON.parse(document.getElementById(id).textContent);
    const layer = read("tdi-layer");
    const map = drawBase(window.L, box, read("tdi-base"));
    const group = drawLayer(window.L, map, layer, null).addTo(map);
    fitView(window.L, map, layer, group);
    window.map = map;
    return map;
}

const MAP_LABEL = "Carte des Territoires d'industrie : les mêmes données se lisent au clavier " +
    "dans le « Tableau des territoires de la vue », sous la carte, et dans la liste « Territoire »";

// Large parts of the element's data (the base map, the view's layer) travel
// once per page: the server sends a part with its key the first time, then
// only the key. Kept here for the page's lifetime (the last few keys); a key
// the page does not hold (a message skipped by a fast rerun) is asked for
// again with the "missing" trigger, and the server sends the part back.
const PARTS = globalThis.__tdiMapParts || (globalThis.__tdiMapParts = new Map());
const KEEP_PARTS = 8;

function part(key, value) {
    const known = value || PARTS.get(key);
    if (known) {  // most recently used last; the oldest go first
        PARTS.delete(key);
        PARTS.set(key, known);
        while (PARTS.size > KEEP_PARTS) { PARTS.delete(PARTS.keys().next().value); }
    }
    return known;
}

// The selected territory's outline, above the layer, redrawn when either changes.
function drawSelection(L, map, box, selection, k) {
    if (box.tdiSelection) { map.removeLayer(box.tdiSelection); box.tdiSelection = null; }
    if (selection && selection.parts) {
        box.tdiSelection = L.polygon(decodeParts(selection.parts, k),
            Object.assign({}, selection.style, {interactive: false})).addTo(map);
    }
}

// After a tap on a shape, bring the territory's detail (drawn under the map, in the
// same run) into view if it is below the screen's edge, as soon as it is on the page.
function showDetail(id, tries = 40) {
    const detail = document.querySelector(".tdi-detail");
    if (detail && detail.getAttribute("data-tdi-id") === id) {
        const heading = detail.querySelector("h3") || detail;
        if (heading.getBoundingClientRect().bottom > window.innerHeight) {
            heading.scrollIntoView({block: "center"});
        }
    } else if (tries > 0) {
        setTimeout(() => showDetail(id, tries - 1), 100);
    }
}

// The app's element (Streamlit components v2): the base map is drawn once (or
// when the tiles toggle changes); each rerun that changes the view swaps the
// layer without recreating the map (no flicker, zoom kept); the selection and
// the zoom are the visitor's own and change on their own.
export default function (component) {
    const { data, parentElement, setTriggerValue } = component;
    let box = parentElement.querySelector(".tdi-map");
    if (!box) {
        box = document.createElement("div");
        box.className = "tdi-map";
        // An accessible name, and where to read the same data as text (set as attributes, like all data here).
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", MAP_LABEL);
        parentElement.appendChild(box);
    }
    if (data.height) { box.style.height = data.height + "px"; }  // else tdi_map.css sizes it to the screen
    const cleanup = () => {
        if (box.tdiMap) { box.tdiMap.remove(); box.tdiMap = null; box.tdiLayer = null; box.tdiSelection = null; }
    };
    const base = part(data.base_key, data.base);
    const layer = part(data.layer_key, data.layer);
    if (!base || !layer) {
        setTriggerValue("missing", [base ? null : data.base_key, layer ? null : data.layer_key].filter(Boolean));
        return cleanup;
    }
    Promise.all([load(data.leaflet_js), load(data.leaflet_css, true)]).then(() => {
        const L = window.L;
        if (box.dataset.base !== data.base_key || !box.tdiMap) {
            if (box.tdiMap) { box.tdiMap.remove(); }
            box.tdiMap = drawBase(L, box, base);
            box.dataset.base = data.base_key;
            delete box.dataset.layer;
            delete box.dataset.fit;
            delete box.dataset.selection;
            window.map = box.tdiMap;  // for tests and benchmarks
        }
        const map = box.tdiMap;
        if (box.dataset.layer !== data.layer_key) {
            if (box.tdiLayer) { map.removeLayer(box.tdiLayer); }
            box.tdiLayer = drawLayer(L, map, layer, (latlng) => {
                box.tdiClicked = Date.now();
                setTriggerValue("click", {lat: latlng.lat, lng: latlng.lng});
            });
            box.tdiLayer.addTo(map);
            box.dataset.layer = data.layer_key;
            delete box.dataset.selection;
        }
        const selectionKey = data.layer_key + "|" + (data.selection ? data.selection.id : "");
        if (box.dataset.selection !== selectionKey) {
            drawSelection(L, map, box, data.selection, layer.k);
            box.dataset.selection = selectionKey;
            if (data.selection && Date.now() - (box.tdiClicked || 0) < 10000) {
                box.tdiClicked = 0;
                showDetail(String(data.selection.id));
            }
        }
        const fit = data.fit || layer.fit;
        if (box.dataset.fit !== fit.key) {
            box.dataset.fit = fit.key;
            fitView(L, map, {fit: fit}, box.tdiLayer);
        }
    });
    return cleanup;
}
