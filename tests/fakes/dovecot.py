"""A real Dovecot IMAP server for one test: its own config, users and Maildir in a temp
folder, on a free loopback port, in the foreground (no system service, no fixed port).

Run as root, the mail itself belongs to ``nobody`` (Dovecot refuses uid 0 for mail) and
Dovecot's internal users are the package's ``dovecot``/``dovenull``; run as anyone else,
everything is that user. Messages are written straight into the Maildir, which is how a
local delivery agent does it and is fast enough for hundreds of messages.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "alice", "s3cret-imap-pass"


def available() -> bool:
    return Path(DOVECOT).is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    def __init__(self) -> None:
        # Not under pytest's tmp_path: that is private to us (0700), and Dovecot's own
        # unprivileged processes must reach their files.
        self.root = Path(tempfile.mkdtemp(prefix="autogpt-dovecot-"))
        self.root.chmod(0o755)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._drain: threading.Thread | None = None
        self.maildir = self.root / "mail" / USER
        self.delivered = 0
        if os.getuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
            self.internal, self.login = "dovecot", "dovenull"
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
            self.internal = self.login = pwd.getpwuid(os.getuid()).pw_name

    def _config(self, port: int) -> Path:
        r = self.root
        user = pwd.getpwuid(self.mail_uid).pw_name
        group = grp.getgrgid(self.mail_gid).gr_name
        text = f"""
base_dir = {r}/run
state_dir = {r}/state
log_path = /dev/stderr
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {self.internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(self.internal).pw_gid).gr_name}
default_login_user = {self.login}
first_valid_uid = 1
mail_location = maildir:{r}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={r}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        path = r / "dovecot.conf"
        path.write_text(text)
        return path

    def _own(self) -> None:
        for path in [self.root / "mail", self.root / "home", *self.root.joinpath("mail").rglob("*")]:
            os.chown(path, self.mail_uid, self.mail_gid)

    def start(self, deadline: float = 20.0) -> Dovecot:
        for folder in ("run", "state", "home", f"mail/{USER}/new", f"mail/{USER}/cur", f"mail/{USER}/tmp"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        self._own()
        ends = time.monotonic() + deadline
        while time.monotonic() < ends:
            port = _free_port()  # another process may take it first: then try the next one
            proc = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self._config(port))], stderr=subprocess.PIPE, start_new_session=True
            )
            assert proc.stderr is not None
            log: list[str] = []
            for raw in proc.stderr:  # the master logs "starting up" once its listeners are bound
                log.append(raw.decode(errors="replace").rstrip())
                if "starting up" in log[-1] or "Fatal" in log[-1]:
                    break
            if log and "starting up" in log[-1]:
                self.proc, self.port = proc, port
                # keep reading its log, or a full pipe would stall the server
                self._drain = threading.Thread(target=proc.stderr.read, name="dovecot-log", daemon=True)
                self._drain.start()
                return self
            proc.kill()
            proc.wait()
            proc.stderr.close()
            if not any("in use" in line for line in log):
                raise RuntimeError("dovecot did not start: " + " | ".join(log[-5:]))
        raise RuntimeError("dovecot found no free port")

    def deliver(self, message: EmailMessage) -> None:
        # Dovecot numbers new mail in the order of the time its maildir name starts with; one
        # second apart per delivery, hundreds delivered in a moment still arrive in order.
        self.delivered += 1
        name = f"{1_700_000_000 + self.delivered}.M{self.delivered:06d}P{os.getpid()}Q{uuid.uuid4().hex[:8]}.test"
        path = self.maildir / "new" / name
        path.write_bytes(bytes(message))
        os.chown(path, self.mail_uid, self.mail_gid)

    def stop(self) -> None:
        """Kill the server and all its processes at once: it is a throwaway."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self._drain is not None:
            self._drain.join(10)  # the log pipe reaches its end once every process has gone
            self._drain = None
            assert self.proc is not None
            assert self.proc.stderr is not None
            self.proc.stderr.close()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def message(n: int, subject: str, sender: str = "bob@example.com", body: str = "", reply_to: str = "") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"Bob <{sender}>"
    mail["To"] = f"{USER}@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<m{n}@example.com>"
    mail["Date"] = f"Mon, 01 Dec 2025 10:{n % 60:02d}:00 +0000"
    if reply_to:
        mail["In-Reply-To"] = reply_to
        mail["References"] = reply_to
    mail.set_content(body or f"Message number {n}.")
    return mail
