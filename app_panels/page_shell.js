// tdi-geo: Streamlit's own English strings in French (see app_panels/page_shell.py).
//
// Fixed code. It reads a table of whole texts (English -> French) and a few
// patterns from the JSON element #tdi-fr-strings, then translates the text
// nodes and the aria-label / title / placeholder attributes that Streamlit's
// frontend writes, as it writes them. It changes a node's text, never the
// node itself (React keeps its references). Our own elements (the map, HTML
// blocks, Markdown) are skipped: their text is ours or the data's.
(() => {
    "use strict";
    document.documentElement.lang = "fr";
    // Streamlit asks for its icon font (Material Symbols, 374 kB) as it boots, whether or not
    // an icon is shown; the first screen shows none (page_shell.css), so the font is left to
    // load when an icon first appears (the browser fetches it then, for the icon's text).
    if (document.fonts && document.fonts.load) {
        const load = document.fonts.load.bind(document.fonts);
        document.fonts.load = (font, text) => (/Material Symbols/.test(String(font)) ? Promise.resolve([]) : load(font, text));
    }
    const source = document.getElementById("tdi-fr-strings");
    if (!source) { return; }
    const table = JSON.parse(source.textContent);
    const exact = new Map(Object.entries(table.exact));
    const rules = table.rules.map(([re, out]) => [new RegExp(re), out]);
    const ATTRIBUTES = ["aria-label", "title", "placeholder"];
    // Never inside the map, our HTML blocks or charts; Markdown only in a button's label
    // (Streamlit writes « Upload » as Markdown), never in a text that could quote the data.
    const SKIP = ".leaflet-container, [data-testid='stHtml'], .tdi-map, svg";
    const MARKDOWN = "[data-testid='stMarkdownContainer']";

    function translate(text) {
        const trimmed = text.trim();
        if (!trimmed || trimmed.length > 80) { return null; }
        let out = exact.get(trimmed);
        if (out === undefined) {
            for (const [re, replacement] of rules) {
                if (re.test(trimmed)) { out = trimmed.replace(re, replacement); break; }
            }
        }
        if (out === undefined || out === trimmed) { return null; }
        return text.replace(trimmed, () => out);
    }

    function skipped(el) {
        return !!(el && el.closest && el.closest(SKIP));
    }

    function fixText(node) {
        const parent = node.parentElement;
        if (!parent || skipped(parent) || (parent.closest(MARKDOWN) && !parent.closest("button"))) { return; }
        const out = translate(node.nodeValue || "");
        if (out !== null) { node.nodeValue = out; }
    }

    function fixAttributes(el) {
        for (const name of ATTRIBUTES) {
            const value = el.getAttribute(name);
            if (value) {
                const out = translate(value);
                if (out !== null) { el.setAttribute(name, out); }
            }
        }
    }

    function fixTree(root) {
        if (root.nodeType === Node.TEXT_NODE) { fixText(root); return; }
        if (root.nodeType !== Node.ELEMENT_NODE || skipped(root)) { return; }
        fixAttributes(root);
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
            acceptNode(node) {
                if (node.nodeType === Node.ELEMENT_NODE && node.matches(SKIP)) { return NodeFilter.FILTER_REJECT; }
                return NodeFilter.FILTER_ACCEPT;
            },
        });
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.nodeType === Node.TEXT_NODE) { fixText(node); } else { fixAttributes(node); }
        }
    }

    const observer = new MutationObserver((records) => {
        for (const record of records) {
            if (record.type === "childList") {
                record.addedNodes.forEach(fixTree);
            } else if (record.type === "characterData") {
                fixText(record.target);
            } else if (record.type === "attributes" && !skipped(record.target)) {
                fixAttributes(record.target);
            }
        }
    });
    observer.observe(document.documentElement, {
        subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRIBUTES,
    });
    if (document.body) { fixTree(document.body); }
})();
