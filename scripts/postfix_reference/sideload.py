#!/usr/bin/env python3
"""Put Debian's Postfix package beside another MTA for one capture, and take it away again.

``apt-get install postfix`` removes any other MTA (Debian's MTAs conflict:
on a machine with Exim it would remove exim4-daemon-light, exim4-base and
exim4-config). For a capture only the Postfix daemons are needed, not the
MTA slot (``/usr/sbin/sendmail``, ``mailq``, ``newaliases``), so this helper
unpacks the ``.deb`` with ``dpkg -x`` and copies every file whose path does
not exist yet, skipping those another package owns, then creates what
Debian's postinst would create for this use: the ``postfix`` user and
group, the ``postdrop`` group, ``/etc/postfix/master.cf`` (Debian's
``master.cf.dist``) and an empty ``dynamicmaps.cf``. Every path it creates
is written to a manifest; ``remove`` deletes exactly those paths (and
``/etc/postfix``, Postfix's spool and data directories, which it created,
with what capture.py put there), the users and
groups it added, and the manifest. dpkg's database is never touched.

Usage (as root, on a throw-away machine; see README.md)::

    python3 scripts/postfix_reference/sideload.py install postfix_3.7.11-0+deb12u1_amd64.deb
    python3 scripts/postfix_reference/sideload.py remove

Standard library only. Not part of the test suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MANIFEST = Path("/var/tmp/simlab-postfix-sideload.json")
OWNED_TREES = ("/etc/postfix", "/var/spool/postfix", "/var/lib/postfix")  # created here, removed whole


def run(*argv: str) -> None:
    print("+", " ".join(argv), file=sys.stderr)
    subprocess.run(argv, check=True)


def install(deb: Path) -> None:
    if MANIFEST.exists():
        sys.exit(f"{MANIFEST} exists: run 'remove' first")
    for tree in OWNED_TREES:
        if os.path.lexists(tree):
            sys.exit(f"refusing: {tree} exists (is Postfix installed? then use capture.py directly)")
    created: list[str] = []
    skipped: list[str] = []
    users: list[str] = []
    groups: list[str] = []
    MANIFEST.write_text(json.dumps({"created": created}))
    with tempfile.TemporaryDirectory() as tmp:
        run("dpkg", "-x", str(deb), tmp)
        root = Path(tmp)
        for src in sorted(root.rglob("*")):
            target = Path("/") / src.relative_to(root)
            if src.is_dir() and not src.is_symlink():
                if not target.exists():
                    target.mkdir()
                    shutil.copystat(src, target)
                    created.append(str(target))
                continue
            if os.path.lexists(target):
                skipped.append(str(target))
                continue
            if src.is_symlink():
                os.symlink(os.readlink(src), target)
            else:
                shutil.copy2(src, target)
            created.append(str(target))
    for tree in OWNED_TREES[1:]:
        if not os.path.lexists(tree):
            os.makedirs(tree)
            created.append(tree)
    for name in ("master.cf", "dynamicmaps.cf"):
        target = Path("/etc/postfix") / name
        if not target.exists():
            if name == "master.cf":
                shutil.copyfile("/usr/share/postfix/master.cf.dist", target)
            else:
                target.write_text("# no dynamic map types installed (simlab capture)\n")
            created.append(str(target))
    if subprocess.run(["getent", "group", "postdrop"], capture_output=True).returncode:
        run("addgroup", "--system", "postdrop")
        groups.append("postdrop")
    if subprocess.run(["getent", "passwd", "postfix"], capture_output=True).returncode:
        if subprocess.run(["getent", "group", "postfix"], capture_output=True).returncode:
            run("addgroup", "--system", "postfix")
            groups.append("postfix")
        run("adduser", "--system", "--home", "/var/spool/postfix", "--no-create-home", "--disabled-password",
            "--ingroup", "postfix", "postfix")
        users.append("postfix")
    # What postinst's dpkg-statoverride lines and postfix-files set up.
    shutil.chown("/var/lib/postfix", "postfix", "postfix")
    os.chmod("/var/lib/postfix", 0o700)
    for command in ("/usr/sbin/postdrop", "/usr/sbin/postqueue"):
        if command in created:
            shutil.chown(command, "root", "postdrop")
            os.chmod(command, 0o2555)
    MANIFEST.write_text(json.dumps({"deb": str(deb), "created": created, "skipped": skipped, "users": users,
                                    "groups": groups}, indent=1))
    print(f"installed {len(created)} paths; skipped {len(skipped)} that exist: {', '.join(skipped)}",
          file=sys.stderr)


def remove() -> None:
    if not MANIFEST.exists():
        sys.exit(f"no {MANIFEST}: nothing to remove")
    data = json.loads(MANIFEST.read_text())
    if subprocess.run(["pgrep", "-x", "master"], capture_output=True).returncode == 0:
        subprocess.run(["postfix", "stop"], check=False)
    for tree in OWNED_TREES:
        if os.path.lexists(tree):
            shutil.rmtree(tree)
    for path in reversed(data["created"]):
        p = Path(path)
        if p.is_symlink() or p.is_file():
            p.unlink()
        elif p.is_dir():
            try:
                p.rmdir()
            except OSError:  # something else put a file there meanwhile: leave it
                print(f"  left {p} (not empty)", file=sys.stderr)
    for user in data.get("users", []):
        run("deluser", "--system", user)
    for group in data.get("groups", []):
        subprocess.run(["delgroup", "--system", group], check=False)
    MANIFEST.unlink()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "install":
        install(Path(sys.argv[2]).resolve())
    elif len(sys.argv) == 2 and sys.argv[1] == "remove":
        remove()
    else:
        sys.exit(__doc__.split("Standard library")[0])


if __name__ == "__main__":
    main()
