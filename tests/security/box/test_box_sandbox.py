"""Hostile programs run in the Sandbox and try to get out: as root, through /proc/sys, by
reading the host's secrets and sockets, by signalling what started them, by eating memory,
tmpfs or disk. Each checks the host afterwards, not what the program says."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from boxkit import escaped

from autogpt.errors import WorkspaceError, WorkspaceFullError
from autogpt.tools.sandbox import Limits, Sandbox
from autogpt.tools.sandbox_bwrap import SANDBOX_UID, seccomp_program
from autogpt.tools.sandbox_cgroup import cgroup_base
from autogpt.tools.workspace import Workspace

PY = sys.executable
MIB = 1024 * 1024
pytestmark = pytest.mark.usefixtures("needs_bwrap")


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(Workspace(tmp_path / "ws"), backend="bwrap")


@pytest.fixture
def host_socket() -> Iterator[tuple[socket.socket, str]]:
    """A listening unix socket in the host's /tmp, as a desktop session or a daemon has."""
    path = f"/tmp/autogpt-box-{uuid.uuid4().hex}.sock"  # the host's /tmp: that is the point
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    server.setblocking(False)
    yield server, path
    server.close()
    os.unlink(path)


async def test_the_program_is_not_root_inside_nor_on_the_host(sandbox: Sandbox) -> None:
    script = "id -u; id -g; echo made > mine.txt; stat -c %u mine.txt; cat /proc/self/status"
    result = await sandbox.run(["sh", "-c", script])
    assert result.ok, result.stderr
    uid, gid, owner = result.stdout.split()[:3]
    assert (uid, gid) == (str(SANDBOX_UID), str(SANDBOX_UID))
    assert owner != "0"  # as root no uid is mapped: the file's owner as the host sees it
    caps = {line.split(":")[0]: line.split()[1] for line in result.stdout.splitlines() if line.startswith("Cap")}
    assert caps["CapEff"] == caps["CapPrm"] == caps["CapBnd"] == "0000000000000000"


@pytest.mark.skipif(seccomp_program() is None, reason="the seccomp filter is written for x86-64 only")
async def test_no_way_back_to_root_through_a_user_namespace(sandbox: Sandbox) -> None:
    """Inside a fresh user namespace the program would be root again, with the kernel surface that brings."""
    attack = (
        "import ctypes, os, threading\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "for flags in (0x10000000, 0x10000000 | 0x00020000):  # CLONE_NEWUSER, and with CLONE_NEWNS\n"
        "    if libc.unshare(flags) == 0: print('BECAME ROOT', os.getuid())\n"
        "    else: print('refused', ctypes.get_errno())\n"
        "t = threading.Thread(target=print, args=('threads still work',)); t.start(); t.join()\n"
    )
    result = await sandbox.run([PY, "-c", attack])
    assert result.ok, result.stderr
    assert "BECAME ROOT" not in result.stdout
    assert result.stdout.count("refused") == 2
    assert "threads still work" in result.stdout
    assert "unshare failed" in (await sandbox.run(["unshare", "-U", "-r", "id"])).stderr


async def test_proc_sys_dev_and_the_root_are_read_only(sandbox: Sandbox) -> None:
    knob = Path("/proc/sys/kernel/printk_ratelimit")
    before = knob.read_text()  # noqa: ASYNC240 - a tiny /proc read
    attack = (
        f"echo {int(before) + 7} > {knob}; echo sys=$?; touch /dev/evil; echo dev=$?; touch /evil; echo root=$?; "
        "mkdir /usr/evil; echo usr=$?"
    )
    result = await sandbox.run(["sh", "-c", attack])
    assert knob.read_text() == before  # noqa: ASYNC240
    assert "sys=0" not in result.stdout
    assert "dev=0" not in result.stdout
    assert "root=0" not in result.stdout
    assert "usr=0" not in result.stdout
    assert not escaped(Path("/usr/evil"))


async def test_host_secrets_and_sockets_are_out_of_sight(
    sandbox: Sandbox, outside: Path, host_socket: tuple[socket.socket, str]
) -> None:
    secret = f"sk-{uuid.uuid4().hex}"
    (outside / ".env").write_text(f"OPENAI_API_KEY={secret}\n")
    (outside / "ca.key").write_text("-----BEGIN " + f"PRIVATE KEY-----\n{secret}\n")  # split: no key marker in git
    server, sock_path = host_socket
    probe = (
        "import os, socket, sys\n"
        "for path in sys.argv[1:4]:\n"
        "    try: print(path, open(path).read())\n"
        "    except OSError as e: print(path, 'refused', e.errno)\n"
        "for folder in ('/root', '/home', '/var', '/run', '/sys', os.path.dirname(sys.argv[1])):\n"
        "    try: print(folder, os.listdir(folder))\n"
        "    except OSError as e: print(folder, 'refused', e.errno)\n"
        "for target in (sys.argv[4], '\\0' + sys.argv[4]):\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        "    try: s.connect(target); print('CONNECTED', target)\n"
        "    except OSError as e: print('socket refused', e.errno)\n"
    )
    result = await sandbox.run(
        [PY, "-c", probe, "/etc/shadow", str(outside / ".env"), str(outside / "ca.key"), sock_path]
    )
    assert result.ok, result.stderr
    assert secret not in result.stdout
    assert "root:" not in result.stdout  # /etc/shadow's first line
    assert "CONNECTED" not in result.stdout
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith("/"))
    for path in ("/etc/shadow", str(outside / ".env"), str(outside / "ca.key"), "/home", "/var", "/run", "/sys"):
        assert lines[path].startswith("refused"), path
    assert result.stdout.count("socket refused") == 2
    hidden = set(os.listdir("/root")) - {".pyenv"}  # only an interpreter that lives there is shown
    assert not any(repr(name) in lines["/root"] for name in hidden)
    with pytest.raises(BlockingIOError):
        server.accept()  # nobody knocked


async def test_the_program_cannot_signal_what_started_it(sandbox: Sandbox) -> None:
    bystander = await asyncio.create_subprocess_exec("sleep", "60")  # a host process of ours, as root
    try:
        attack = f"kill -KILL {os.getpid()} {bystander.pid} {os.getppid()}; kill -KILL -1; echo survived"
        result = await sandbox.run(["sh", "-c", attack])
        assert bystander.returncode is None
        assert escaped(Path(f"/proc/{bystander.pid}"))
    finally:
        bystander.kill()
        await bystander.wait()
    assert result.killed_by in (None, "signal 9")  # it may take itself down; nothing of ours


@pytest.mark.skipif(cgroup_base("memory") is None, reason="no memory cgroup can be created on this machine")
async def test_six_children_share_one_memory_limit(sandbox: Sandbox) -> None:
    """Each child stays under RLIMIT_AS; together they would take 6 x 96 MiB of a 192 MiB run."""
    hog = (
        "import os, sys, time\n"
        "kids = []\n"
        "for _ in range(6):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        block = b'x' * (96 << 20)\n"
        "        os._exit(0 if len(block) else 1)\n"
        "    kids.append(pid)\n"
        "print(sorted(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids))\n"
    )
    result = await sandbox.run([PY, "-c", hog], limits=Limits(memory_mb=192, wall_seconds=60))
    assert result.memory_peak is not None
    assert result.memory_peak <= 192 * MIB
    assert "-9" in result.stdout or not result.ok  # the kernel killed some of them inside the run


async def test_tmp_and_dev_shm_are_bounded(sandbox: Sandbox) -> None:
    fill = "for f in /tmp/fill /dev/shm/fill; do head -c 200000000 /dev/zero > $f; stat -c %s $f; done"
    result = await sandbox.run(["sh", "-c", fill])
    sizes = [int(line.split()[0]) for line in result.stdout.splitlines()]
    assert sizes[0] <= 64 * MIB
    assert sizes[1] <= 16 * MIB
    assert "No space left" in result.stderr
    assert not escaped(Path("/tmp/fill"))
    assert not escaped(Path("/dev/shm/fill"))


async def test_filling_the_workspace_stops_the_run_and_fails_clearly(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", max_total_bytes=32 * MIB)
    ws.write_text("app/main.py", "x = 1\n")
    sandbox = Sandbox(ws, backend="bwrap")
    fill = "import os\nfor i in range(10**6):\n    open(f'junk{i}', 'wb').write(os.urandom(1 << 20))\n"
    result = await sandbox.run([PY, "-c", fill], limits=Limits(wall_seconds=60))
    assert result.killed_by == "disk"
    assert not result.ok
    overshoot = ws.usage() - ws.max_total_bytes
    assert overshoot < 256 * MIB, f"the run wrote {overshoot} bytes past the limit before it was stopped"
    assert ws.read_text("app/main.py") == "x = 1\n"  # nothing was lost
    with pytest.raises(WorkspaceFullError, match="limit"):
        ws.write_text("more.txt", "x" * 10)
    with pytest.raises(WorkspaceFullError, match="limit"):
        await sandbox.run(["true"])


async def test_a_folder_swapped_for_a_symlink_never_redirects_a_host_write(sandbox: Sandbox, outside: Path) -> None:
    """The page check writes its screenshot while the server, in the Sandbox, swaps the folder."""
    ws = sandbox.workspace
    ws.write_bytes("shots/seed.png", b"seed")
    swap = (
        "import os, sys\n"
        "n = 0\n"
        "while not os.path.exists('stop'):\n"
        "    try:\n"
        "        os.rename('shots', 'shots.real'); os.symlink(sys.argv[1], 'shots')\n"
        "        os.unlink('shots'); os.rename('shots.real', 'shots'); n += 1\n"
        "    except OSError:\n"
        "        pass\n"
        "print(n)\n"
    )
    proc = await sandbox.start([PY, "-c", swap, str(outside)], limits=Limits(wall_seconds=60))
    written = refused = 0
    try:
        for i in range(400):
            try:
                ws.write_bytes(f"shots/page-{i}.png", b"\x89PNG" + bytes(64))
                written += 1
            except WorkspaceError:  # refused (a link on the way): fine; landing outside is not
                refused += 1
    finally:
        (ws.root / "stop").touch()
        await proc.wait()
    assert not any(escaped(outside / f"page-{i}.png") for i in range(400))
    assert written + refused == 400
    assert int(proc.result().stdout.strip() or 0) > 0  # the attacker really was swapping
    print(f"race: {written} written, {refused} refused")


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the workspace changes hands only when we run as root")
OWNER = 4321  # the project's owner, a uid that is neither ours nor the sandbox's


@needs_root
async def test_the_workspace_goes_back_to_its_owner_without_set_id_bits(sandbox: Sandbox, outside: Path) -> None:
    """A project handed to the sandbox user for a run is its owner's again afterwards; what the
    program made there is too, but never with a set-user-id bit, nor through a link."""
    ws = sandbox.workspace
    ws.write_text("app/main.py", "print('hi')\n")
    secret = outside / "secret"
    secret.write_text("host")
    for path in (ws.root, ws.root / "app", ws.root / "app" / "main.py"):
        os.chown(path, OWNER, OWNER)
    attack = (
        f"cp {PY} own-python && chmod 6755 own-python && mkdir -p made/deeper && echo x > made/deeper/f "
        f"&& ln -s {secret} link && stat -c %u app/main.py"
    )
    result = await sandbox.run(["sh", "-c", attack])
    assert result.ok, result.stderr
    assert result.stdout.split()[-1] == str(SANDBOX_UID)  # lent while it ran
    for path in ("", "app", "app/main.py", "own-python", "made", "made/deeper", "made/deeper/f"):
        info = os.stat(ws.root / path, follow_symlinks=False)
        assert (info.st_uid, info.st_gid) == (OWNER, OWNER), path
    assert not os.stat(ws.root / "own-python").st_mode & (stat.S_ISUID | stat.S_ISGID)
    assert os.stat(secret).st_uid == os.geteuid()  # the link was not followed
    assert not (ws.root / ".home").exists()
    assert not (ws.root / ".tmp").exists()


@needs_root
async def test_the_workspace_stays_lent_while_another_run_still_uses_it(sandbox: Sandbox) -> None:
    ws = sandbox.workspace.ensure()
    os.chown(ws.root, OWNER, OWNER)
    waiter = "import os\nwhile not os.path.exists('go'): pass\nopen('late.txt', 'w').write('still mine')\n"
    server = await sandbox.start([PY, "-c", waiter], limits=Limits(wall_seconds=60))
    try:
        assert (await sandbox.run(["sh", "-c", "echo quick > quick.txt"])).ok
        assert os.stat(ws.root).st_uid == SANDBOX_UID  # the first run still has it
        (ws.root / "go").touch()
        assert await server.wait() == 0, server.result().stderr
    finally:
        await server.stop(grace=0.2)
    assert (ws.root / "late.txt").read_text() == "still mine"
    assert {os.stat(ws.root / name).st_uid for name in ("", "quick.txt", "late.txt")} == {OWNER}
