"""A browser-less client of Streamlit 1.67's websocket protocol, for load tests.

It loads the page the way Streamlit's frontend does (read from the installed
``streamlit/static`` bundle and ``streamlit/web/server/starlette``), with the
protobuf messages that ship with streamlit, so that a load test measures the
server and not a browser:

1. **Handshake.** Open ``ws://host:port/_stcore/stream`` with the subprotocols
   ``["streamlit", <xsrf token>]`` (the frontend sends ``PLACEHOLDER_AUTH_TOKEN``
   when it has no token; a third entry would ask to resume a session) and
   ``permessage-deflate``, as a browser negotiates it. Every frame is binary:
   the client sends ``BackMsg``, the server sends ``ForwardMsg``.
2. **First run.** Send ``BackMsg.rerun_script`` (a ``ClientState``) with the
   page's query string, an empty ``page_script_hash`` and no widget state.
3. **Each run** answers with ``new_session`` (the run's ``main_script_hash`` and
   the cache's ``max_cached_message_age``), ``delta`` messages (elements and
   blocks), ``page_info_changed`` when the app rewrites its query string, then
   ``script_finished``. ``FINISHED_EARLY_FOR_RERUN`` means the app called
   ``st.rerun`` (e.g. app.py's ``_tdi_redrawn`` redraw): the view is finished
   only at ``FINISHED_SUCCESSFULLY`` (``FINISHED_FRAGMENT_RUN_SUCCESSFULLY`` for a
   fragment run).
4. **Message cache.** There is no ``/_stcore/message`` endpoint in 1.67: a
   ``new_element`` delta of at least ``global.minCachedMessageSize`` (10 kB) comes
   with ``metadata.cacheable``; the client keeps it by ``hash`` and lists the
   hashes it holds in ``ClientState.cached_message_hashes`` of its next reruns.
   The server then sends an identical message as a ``ref_hash`` message, which
   the client replaces with its copy. A copy expires after
   ``max_cached_message_age`` finished runs (the frontend's ``ForwardMsgCache``).
5. **A filter change.** The frontend sends ``rerun_script`` with the query
   string the app last set, ``page_script_hash`` = ``main_script_hash``, the
   cached hashes, and ``widget_states`` holding *every* value widget of the
   last run (checked against the frames a real page sends), with one value
   changed. Widget ids (``$$ID-<hash>-<key>``, stable across sessions for a
   keyed widget) and values are read from the elements received: select boxes
   and radios send the shown option text (``string_value``), multiselects the
   shown texts (``string_array_value``), checkboxes and toggles ``bool_value``,
   text inputs ``string_value``. A widget drawn again keeps the visitor's value
   (the element's ``default`` counts only on first draw) unless the script set
   one (``set_value``). A widget inside a ``st.fragment`` reruns that fragment
   (``ClientState.fragment_id``), finished at ``FINISHED_FRAGMENT_RUN_SUCCESSFULLY``.

Byte counts are the decompressed payloads (what the protobuf parser reads)
and the bytes on the wire (compressed frames, counted under the protocol).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect

STREAM_PATH = "_stcore/stream"
SUBPROTOCOLS = ["streamlit", "PLACEHOLDER_AUTH_TOKEN"]
#: The app's map element (``st.components.v2.component("tdi_geo_map", ...)``).
MAP_COMPONENT = "tdi_geo_map"
_FINISHED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
#: The count of the map's title line (« … — France entière — 183 territoires, dont … »).
_IN_VIEW = re.compile(r'class="tdi-title".*?— (\d[\d\u202f\u00a0 ]*) territoires?\b', re.S)
_WIDGET_TYPES = ("selectbox", "radio", "multiselect", "checkbox", "text_input")


class ViewError(RuntimeError):
    """A view could not be loaded (timeout, closed socket, cache miss, missing widget)."""


@dataclass
class Widget:
    """A value widget of the last run, as the frontend's widget manager holds it."""

    id: str
    kind: str
    label: str
    options: list[str]
    value: object
    fragment_id: str = ""

    @property
    def key(self) -> str:
        """The user key at the end of the id (``$$ID-<hash>-<key>``)."""
        return self.id.rsplit("-", 1)[-1]


@dataclass
class View:
    """One rerun, from the BackMsg sent to the run's finished message."""

    label: str
    seconds: float = float("nan")
    map_seconds: float = float("nan")
    finished: bool = False
    errors: list[str] = field(default_factory=list)
    payload_bytes: int = 0
    wire_bytes: int = 0
    messages: int = 0
    refs: int = 0
    app_reruns: int = 0
    territories: int | None = None
    alerts: list[str] = field(default_factory=list)
    map_hash: str = ""
    query_string: str = ""


class _CountingConnection(ClientConnection):
    """A websocket connection that counts the bytes it reads from the socket."""

    wire_bytes = 0

    def data_received(self, data: bytes) -> None:
        self.wire_bytes += len(data)
        super().data_received(data)


def _widget(element, kind: str, fragment_id: str) -> Widget:
    """A widget as first drawn: the value set by the script, else its default.

    A widget already on the page keeps the visitor's value unless the script
    sets one (``set_value``): see :meth:`Session._delta`.
    """
    proto = getattr(element, kind)
    options = list(getattr(proto, "options", []))
    if kind in ("selectbox", "radio"):
        if proto.set_value:
            value = proto.raw_value
        else:
            value = options[proto.default] if proto.HasField("default") and proto.default < len(options) else ""
    elif kind == "multiselect":
        value = list(proto.raw_values) if proto.set_value else [options[i] for i in proto.default if i < len(options)]
    elif kind == "checkbox":
        value = bool(proto.value if proto.set_value else proto.default)
    else:  # text_input
        value = proto.value if proto.set_value else (proto.default if proto.HasField("default") else "")
    return Widget(proto.id, kind, proto.label, options, value, fragment_id)


def _fill(state, widget: Widget) -> None:
    state.id = widget.id
    if widget.kind == "multiselect":
        state.string_array_value.data.extend(widget.value)
    elif widget.kind == "checkbox":
        state.bool_value = bool(widget.value)
    else:
        state.string_value = str(widget.value)


class Session:
    """One visitor's websocket session.

    Parameters
    ----------
    base_url : str
        ``http://127.0.0.1:<port>/`` (only loopback addresses are accepted).
    timeout : float
        Seconds allowed for each view (first load or filter change).
    """

    def __init__(self, base_url: str, timeout: float = 120.0):
        host = re.match(r"^https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/", base_url)
        if host is None:
            raise ValueError(f"only a loopback server can be load-tested, not {base_url!r}")
        self.base_url = base_url
        self.ws_url = "ws" + base_url[4:] + STREAM_PATH
        self.timeout = timeout
        self.widgets: dict[str, Widget] = {}
        self.query_string = ""
        self.main_script_hash = ""
        self.views: list[View] = []
        self._cache: dict[str, tuple[ForwardMsg, int, str]] = {}
        self._runs = 0
        self._max_age = 2
        self._ws = None
        self.payload_bytes = 0

    async def __aenter__(self) -> Session:
        self._ws = await connect(
            self.ws_url, subprotocols=SUBPROTOCOLS, origin=self.base_url.rstrip("/"),
            max_size=None, open_timeout=self.timeout, create_connection=_CountingConnection,
        )
        return self

    async def __aexit__(self, *exc) -> None:
        if self._ws is not None:
            await self._ws.close()

    @property
    def wire_bytes(self) -> int:
        return self._ws.wire_bytes if self._ws is not None else 0

    # --- the two things a visitor does -----------------------------------------------

    async def load(self, query_string: str) -> View:
        """The first run of the page opened at ``?query_string``."""
        msg = BackMsg()
        msg.rerun_script.query_string = query_string
        msg.rerun_script.page_script_hash = ""
        self._context(msg)
        return await self._run(msg, "chargement", "")

    async def change(self, widget: Widget, value, label: str = "") -> View:
        """Give ``widget`` a new ``value`` and rerun, as the page does on a user's change."""
        self.widgets[widget.id].value = value
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query_string
        rerun.page_script_hash = self.main_script_hash
        rerun.cached_message_hashes.extend(self._cache)
        if widget.fragment_id:
            rerun.fragment_id = widget.fragment_id
        for each in self.widgets.values():
            _fill(rerun.widget_states.widgets.add(), each)
        self._context(msg)
        return await self._run(msg, label or widget.key, widget.fragment_id)

    def widget(self, key: str, label: str = "") -> Widget:
        """The widget of the last run with user key ``key`` (or, failing that, label ``label``)."""
        for each in self.widgets.values():
            if each.key == key:
                return each
        for each in self.widgets.values():
            if label and each.label == label:
                return each
        raise ViewError(f"no widget with key {key!r} or label {label!r} in the last run "
                        f"(keys: {sorted(w.key for w in self.widgets.values())})")

    # --- protocol --------------------------------------------------------------------

    def _context(self, msg: BackMsg) -> None:
        info = msg.rerun_script.context_info
        info.timezone, info.timezone_offset, info.locale = "Europe/Paris", -60, "fr-FR"
        info.url, info.color_scheme = self.base_url, "light"

    async def _run(self, msg: BackMsg, label: str, fragment_id: str) -> View:
        view = View(label)
        self.views.append(view)
        wire0 = self.wire_bytes
        start = time.perf_counter()
        deadline = start + self.timeout
        seen: dict[str, Widget] = {}
        await self._ws.send(msg.SerializeToString())
        try:
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError
                data = await asyncio.wait_for(self._ws.recv(), left)
                view.payload_bytes += len(data)
                self.payload_bytes += len(data)
                view.messages += 1
                fwd = self._resolve(data, view)
                kind = fwd.WhichOneof("type")
                if kind == "new_session":
                    self.main_script_hash = fwd.new_session.main_script_hash or self.main_script_hash
                    self._max_age = fwd.new_session.config.max_cached_message_age or self._max_age
                    seen = {}
                elif kind == "delta":
                    self._delta(fwd, view, seen, start)
                elif kind == "page_info_changed":
                    self.query_string = fwd.page_info_changed.query_string
                elif kind == "script_finished":
                    if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        view.app_reruns += 1
                        continue
                    if fwd.script_finished not in _FINISHED:
                        view.errors.append(f"script_finished status {fwd.script_finished}")
                    view.seconds = time.perf_counter() - start
                    view.finished = fwd.script_finished in _FINISHED
                    if fragment_id:
                        self.widgets.update(seen)
                    else:
                        self.widgets = seen
                    self._age_cache(fragment_id)
                    break
        except TimeoutError:
            view.errors.append(f"timeout: no finished view after {self.timeout:.0f} s")
        except Exception as exc:  # a closed socket or a bad frame ends the session
            view.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            view.wire_bytes = self.wire_bytes - wire0
            view.query_string = self.query_string
        return view

    def _resolve(self, data: bytes, view: View) -> ForwardMsg:
        fwd = ForwardMsg()
        fwd.ParseFromString(data)
        if fwd.WhichOneof("type") == "ref_hash":
            cached = self._cache.get(fwd.ref_hash)
            if cached is None:
                raise ViewError(f"cached ForwardMsg miss for ref_hash {fwd.ref_hash}")
            view.refs += 1
            full = ForwardMsg()
            full.CopyFrom(cached[0])
            full.metadata.CopyFrom(fwd.metadata)
            return full
        if fwd.metadata.cacheable and fwd.hash and fwd.hash not in self._cache:
            self._cache[fwd.hash] = (fwd, self._runs, fwd.delta.fragment_id)
        return fwd

    def _age_cache(self, fragment_id: str) -> None:
        self._runs += 1
        for key, (_, run, frag) in list(self._cache.items()):
            if fragment_id and frag != fragment_id:
                continue
            if self._runs - run > self._max_age:
                del self._cache[key]

    def _delta(self, fwd: ForwardMsg, view: View, seen: dict, start: float) -> None:
        delta = fwd.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind in _WIDGET_TYPES:
            widget = _widget(element, kind, delta.fragment_id)
            known = self.widgets.get(widget.id)
            if known is not None and not getattr(element, kind).set_value:
                widget.value = known.value  # the frontend keeps the visitor's value across runs
            seen[widget.id] = widget
        elif kind == "bidi_component" and element.bidi_component.component_name.endswith(MAP_COMPONENT):
            if view.map_seconds != view.map_seconds:  # the first map message of this view
                view.map_seconds = time.perf_counter() - start
            view.map_hash = fwd.hash
        elif kind == "exception":
            view.errors.append(f"exception {element.exception.type}: {element.exception.message[:200]}")
        elif kind == "alert":
            view.alerts.append(element.alert.body)
        elif kind in ("markdown", "html"):
            body = element.markdown.body if kind == "markdown" else element.html.body
            found = _IN_VIEW.search(body)
            if found:
                view.territories = int(re.sub(r"\D", "", found.group(1)))
