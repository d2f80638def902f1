"""Run tdi-geo as deployed: nginx in front of N replicas of serve.py, on loopback ports.

``make stack`` (``python deploy/stack.py --port 8501``) does, in order:

1. renders ``deploy/nginx.conf.template`` into a run directory (default
   ``tmp/stack/``), with free loopback ports for the replicas;
2. starts the replicas (``streamlit run serve.py`` on 127.0.0.1), all with the
   same import workspace (``TDI_GEO_WORKSPACE``), ``TDI_GEO_BEHIND_PROXY=1``
   (nginx compresses) and one cookie secret;
3. waits until each answers ``/_stcore/health``, checks the configuration
   (``nginx -t``), then starts nginx as the current user (``-p <run dir>``,
   ``daemon off``);
4. on Ctrl-C or SIGTERM stops nginx, then the replicas (SIGTERM, then SIGKILL
   after a bounded wait).

A replica that dies is reported and not restarted: nginx sends its visitors
to the others (see the template's comments). :class:`Stack` is what the
browser test (``tests/test_nginx_stack.py``) starts.

Only our own values (ports, the user line) are substituted into the
template, with plain ``str.replace``: no request data ever reaches it.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
#: nginx's temp folders, relative to the run directory (as in the template).
TEMP_DIRS = ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi")
HEALTH = "/_stcore/health"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0


def nginx_path() -> str | None:
    """``$TDI_NGINX`` when set, else Debian's nginx (``/usr/sbin`` is often not on a user's PATH); None if absent."""
    chosen = os.environ.get("TDI_NGINX")
    candidates = [chosen] if chosen else [shutil.which("nginx"), "/usr/sbin/nginx"]
    return next((c for c in candidates if c and Path(c).exists()), None)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_conf(template: str, *, listen: str, replicas: list[str], as_root: bool) -> str:
    """The nginx configuration for ``listen`` in front of ``replicas`` (``host:port`` each).

    Placeholders are replaced outside comments only; the template's
    ``server @REPLICA@ ...`` line is repeated once per replica. Run as root,
    nginx would drop its workers to ``nobody``, who cannot enter a private
    run directory: the workers then stay root, as the replicas already are.

    Examples
    --------
    >>> conf = render_conf(TEMPLATE.read_text(), listen="127.0.0.1:8080",
    ...                    replicas=["127.0.0.1:9001", "127.0.0.1:9002"], as_root=False)
    >>> [line.split()[1] for line in conf.splitlines() if line.strip().startswith("server 127.")]
    ['127.0.0.1:9001', '127.0.0.1:9002']
    >>> unreplaced(conf)
    []
    """
    if not replicas:
        raise ValueError("at least one replica is needed")
    user_line = "user root;" if as_root else "# (workers run as the current user)"
    lines = []
    for line in template.splitlines():
        if line.lstrip().startswith("#"):
            lines.append(line)
        elif "@REPLICA@" in line:
            lines += [line.replace("@REPLICA@", address) for address in replicas]
        else:
            lines.append(line.replace("@LISTEN@", listen).replace("@USER_LINE@", user_line))
    return "\n".join(lines) + "\n"


def unreplaced(conf: str) -> list[str]:
    """Placeholders (``@NAME@``) left on the configuration's non-comment lines."""
    return [m for line in conf.splitlines() if not line.lstrip().startswith("#")
            for m in re.findall(r"@[A-Z_]+@", line)]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, wait at most ``timeout`` seconds, then SIGKILL."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


class Stack:
    """nginx on ``port`` in front of ``replicas`` processes of serve.py, all on 127.0.0.1.

    Parameters
    ----------
    run_dir : Path
        Receives nginx.conf, nginx's pid, logs and temp files, and each
        replica's log (``replica-<i>.log``).
    port : int
        nginx's port.
    replicas : int
        How many serve.py processes (one per core is the rule of thumb).
    workspace : Path
        The import workspace shared by the replicas (``TDI_GEO_WORKSPACE``).
    env : dict, optional
        Extra environment for the replicas (e.g. ``TDI_GEO_DATASET``); a
        None value removes that variable.
    """

    def __init__(self, run_dir: Path, port: int, replicas: int = 2, workspace: Path | None = None,
                 env: dict | None = None, nginx: str | None = None, python: str = sys.executable):
        self.run_dir = Path(run_dir).resolve()
        self.port = port
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.workspace = Path(workspace or os.environ.get("TDI_GEO_WORKSPACE") or ROOT / "data" / "imports").resolve()
        self.extra_env = dict(env or {})
        self.nginx = nginx or nginx_path()
        self.python = python
        self.replicas: list[subprocess.Popen] = []
        self.nginx_proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def replica_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.replica_ports[index]}/"

    @property
    def conf_path(self) -> Path:
        return self.run_dir / "nginx.conf"

    def _nginx_cmd(self, *extra: str) -> list[str]:
        return [self.nginx, "-p", str(self.run_dir), "-c", str(self.conf_path),
                "-e", str(self.run_dir / "error.log"), *extra]

    def write_conf(self) -> Path:
        """Render the template into the run directory (and create nginx's temp folders)."""
        for folder in TEMP_DIRS:
            (self.run_dir / folder).mkdir(parents=True, exist_ok=True)
        conf = render_conf(TEMPLATE.read_text(encoding="utf-8"), listen=f"127.0.0.1:{self.port}",
                           replicas=[f"127.0.0.1:{p}" for p in self.replica_ports],
                           as_root=hasattr(os, "geteuid") and os.geteuid() == 0)
        self.conf_path.write_text(conf, encoding="utf-8")
        return self.conf_path

    def _replica_env(self, secret: str) -> dict:
        env = {k: v for k, v in {**os.environ, **self.extra_env}.items() if v is not None}
        env["TDI_GEO_WORKSPACE"] = str(self.workspace)
        env["TDI_GEO_BEHIND_PROXY"] = "1"
        # One secret for all: Streamlit's signed cookies stay valid when nginx
        # moves a visitor to another replica.
        env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secret)
        return env

    def start(self) -> Stack:
        """Start the replicas, wait for their health, then nginx; raise RuntimeError on failure."""
        if self.nginx is None:
            raise RuntimeError("nginx est introuvable : installez-le (apt-get install nginx).")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.write_conf()
        env = self._replica_env(secrets.token_hex(32))
        try:
            for index, port in enumerate(self.replica_ports):
                with (self.run_dir / f"replica-{index}.log").open("w") as log:
                    self.replicas.append(subprocess.Popen(
                        [self.python, "-m", "streamlit", "run", "serve.py", "--server.port", str(port),
                         "--server.address", "127.0.0.1", "--server.headless", "true"],
                        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                    ))
            for index in range(len(self.replicas)):
                self._wait(self.replicas[index], self.replica_url(index) + HEALTH.lstrip("/"),
                           self.run_dir / f"replica-{index}.log")
            check = subprocess.run(self._nginx_cmd("-t", "-q"), capture_output=True, text=True, timeout=30)
            if check.returncode != 0:
                raise RuntimeError("configuration nginx refusée :\n" + check.stderr)
            with (self.run_dir / "nginx.out").open("w") as out:
                self.nginx_proc = subprocess.Popen(self._nginx_cmd(), stdout=out, stderr=subprocess.STDOUT,
                                                   start_new_session=True)
            self._wait(self.nginx_proc, self.url + HEALTH.lstrip("/"), self.run_dir / "error.log")
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _wait(proc: subprocess.Popen, url: str, log: Path, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise RuntimeError(f"{url} ne répond pas (processus {proc.args[0]}) :\n{tail}")
            time.sleep(0.3)

    def stop_replica(self, index: int) -> None:
        """Stop one replica (SIGTERM, bounded wait), leaving nginx and the others running."""
        _stop(self.replicas[index])

    def stop(self) -> None:
        """Stop nginx first (no new requests), then every replica; each wait is bounded."""
        if self.nginx_proc is not None:
            _stop(self.nginx_proc)
        for proc in self.replicas:
            _stop(proc)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _supervise(stack: Stack) -> int:
    """Block until Ctrl-C, SIGTERM or nginx's end; report replicas that die."""
    stopping = []

    def on_signal(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    dead: set[int] = set()
    while not stopping:
        if stack.nginx_proc.poll() is not None:
            print(f"nginx s'est arrêté (code {stack.nginx_proc.returncode}) : voir {stack.run_dir}/error.log",
                  file=sys.stderr)
            return 1
        for index, proc in enumerate(stack.replicas):
            if index not in dead and proc.poll() is not None:
                dead.add(index)
                print(f"la réplique {index} (port {stack.replica_ports[index]}) s'est arrêtée : nginx envoie "
                      f"ses visiteurs aux autres (journal : {stack.run_dir}/replica-{index}.log)", file=sys.stderr)
        time.sleep(0.5)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="nginx devant N répliques de serve.py (ports locaux).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8501)), help="port de nginx")
    parser.add_argument("--replicas", type=int, default=2, help="nombre de répliques (une par cœur)")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "tmp" / "stack",
                        help="dossier de nginx.conf, des journaux et fichiers temporaires")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="espace d'import partagé (défaut : $TDI_GEO_WORKSPACE ou data/imports)")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas doit valoir au moins 1")
    stack = Stack(args.run_dir, args.port, args.replicas, args.workspace)
    try:
        stack.start()
    except (RuntimeError, OSError) as exc:
        print(f"échec du démarrage : {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while starting: start() already stopped what it had started
        return 130
    print(f"tdi-geo : {stack.url} (nginx) devant {len(stack.replicas)} répliques, ports "
          f"{', '.join(map(str, stack.replica_ports))} ; espace d'import {stack.workspace}. Ctrl-C pour arrêter.",
          flush=True)
    try:
        return _supervise(stack)
    finally:
        stack.stop()
        print("arrêté.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
