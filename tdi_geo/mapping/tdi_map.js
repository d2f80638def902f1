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

// The stable part: context borders, DROM boxes and their labels.
export function drawBase(L, box, base) {
    const map = L.map(box, {
        zoomSnap: 0.25, zoomDelta: 0.5, minZoom: 4, maxZoom: 12,
        zoomControl: false, attributionControl: !!base.tiles,
        // Leaflet's keyboard handler focuses the map on mousedown, which makes the
        // browser scroll the page when the map is partly off-screen: the click then
        // lands elsewhere. Territories stay reachable from the « Territoire » list.
        keyboard: false,
    });
    L.control.zoom({position: "topright", zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer"}).addTo(map);
    if (base.tiles) {
        L.tileLayer(TILE_URL, {attribution: TILE_ATTRIBUTION, maxZoom: 19}).addTo(map);
    }
    base.lines.forEach((line) => {
        const paths = [];
        line.parts.forEach((part) => part.forEach((path) => paths.push(decode(path, base.k))));
        if (paths.length) {
            L.polyline(paths, Object.assign({}, line.style, {interactive: false})).addTo(map);
        }
    });
    base.labels.forEach(([latlng, text]) => {
        const icon = L.divIcon({className: "tdi-inset-label", html: textNode("span", "", text),
                                iconSize: null, iconAnchor: [-4, -3]});
        L.marker(latlng, {icon: icon, interactive: false, keyboard: false}).addTo(map);
    });
    map.fitBounds(base.bounds);
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

function legendControl(L, legend) {
    const control = L.control({position: "bottomright"});
    control.onAdd = () => {
        const div = textNode("div", "tdi-legend", "");
        div.setAttribute("data-testid", "tdi-legend");
        div.setAttribute("role", "group");  // a named group: screen readers announce « Légende » before its rows
        div.setAttribute("aria-label", "Légende");
        div.appendChild(textNode("div", "tdi-legend-title", legend.title));
        const row = (color, label, dashed) => {
            const r = textNode("div", "tdi-row" + (dashed ? " tdi-ill" : ""), "");
            const swatch = textNode("i", "tdi-sw", "");
            swatch.style.background = color;
            swatch.style.opacity = dashed ? "1" : "0.85";
            swatch.style.border = dashed ? "1.5px dashed #333333" : "1px solid #333333";
            r.appendChild(swatch);
            r.appendChild(textNode("span", "", label));
            div.appendChild(r);
        };
        legend.items.forEach(([color, label]) => row(color, label, false));
        if (legend.illustrative) { row("#ffffff", legend.illustrative, true); }
        if (legend.note) { div.appendChild(textNode("div", "tdi-note", legend.note)); }
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    return control;
}

// The view: territories with tooltips, the selection outline and the legend.
// Returns a feature group; the legend comes and goes with it.
export function drawLayer(L, map, layer, onClick) {
    const group = L.featureGroup();
    layer.features.forEach((f) => {
        const style = layer.styles[f[1]];
        const poly = L.polygon(decodeParts(f[8], layer.k), Object.assign(
            {className: "tdi-territory" + ((f[2] & 1) ? " tdi-illustrative" : "")}, style));
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
    const legend = legendControl(L, layer.legend);
    group.on("add", () => legend.addTo(map));
    group.on("remove", () => legend.remove());
    if (onClick) { group.on("click", (e) => onClick(e.latlng)); }
    return group;
}

// Zoom to the view (or to its fixed bounds), keeping the bottom free for the legend.
export function fitView(L, map, layer, group) {
    const bounds = layer.fit.bounds ? L.latLngBounds(layer.fit.bounds) : group.getBounds();
    const legend = map.getContainer().querySelector(".tdi-legend");
    const below = legend ? legend.offsetHeight + 12 : 8;
    if (bounds.isValid()) {
        map.fitBounds(bounds, {paddingTopLeft: [8, 8], paddingBottomRight: [8, below], maxZoom: 10});
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
            box.tdiLayer = drawLayer(L, map, layer, (latlng) => setTriggerValue("click", {lat: latlng.lat, lng: latlng.lng}));
            box.tdiLayer.addTo(map);
            box.dataset.layer = data.layer_key;
            delete box.dataset.selection;
        }
        const selectionKey = data.layer_key + "|" + (data.selection ? data.selection.id : "");
        if (box.dataset.selection !== selectionKey) {
            drawSelection(L, map, box, data.selection, layer.k);
            box.dataset.selection = selectionKey;
        }
        const fit = data.fit || layer.fit;
        if (box.dataset.fit !== fit.key) {
            box.dataset.fit = fit.key;
            fitView(L, map, {fit: fit}, box.tdiLayer);
        }
    });
    return cleanup;
}
