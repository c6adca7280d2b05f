"""Edits of recon.toml (recon.config.edit): comments and order kept, validated before
anything is written, checked against the revision the editor saw, backed up, atomic."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from recon.config.edit import add_host, add_service, edit_file, preview, remove_service
from recon.config.load import load_config, revision_of
from recon.core.errors import ApiError
from recon.demo.recon_config import refresh_demo_config

HAND_WRITTEN = """\
# Our fleet -- edited by hand too.
[settings]
command_timeout_default = 10  # not a real key: replaced below

[hosts.web1]
address = "10.0.0.5"   # the rack's first box
user = "recon"
key = "id_ed25519"

# The web server, restarted by the on-call.
[[services]]
slug = "web"
name = "Web"
host = "web1"
unit = "nginx.service"
"""


@pytest.fixture
def conf(tmp_path: Path, key: Path) -> Path:
    path = tmp_path / "recon.toml"
    path.write_text(HAND_WRITTEN.replace("command_timeout_default = 10  # not a real key: "
                                         "replaced below", "audit_output_bytes = 4096  # ours"))
    path.chmod(0o640)
    return path


def test_an_added_service_keeps_every_comment_and_the_order(conf: Path) -> None:
    before = conf.read_text()
    edit = edit_file(conf, add_service({"slug": "db", "name": "DB", "host": "web1",
                                        "unit": "postgresql.service",
                                        "actions": ["status", "restart"]}))
    after = conf.read_text()
    assert after.startswith(before.rstrip("\n"))  # nothing above moved or changed
    assert "# The web server, restarted by the on-call." in after
    assert "# the rack's first box" in after and "audit_output_bytes = 4096  # ours" in after
    assert list(edit.config.services) == ["web", "db"]
    assert edit.config.revision == revision_of(after.encode())
    assert "+slug = \"db\"" in edit.diff
    assert load_config(conf).services["db"].unit == "postgresql.service"


def test_an_added_host_goes_above_the_comment_of_the_next_table(conf: Path) -> None:
    edit_file(conf, add_host("web2", {"address": "10.0.0.6", "user": "recon",
                                      "key": "id_ed25519", "port": 2222}))
    text = conf.read_text()
    assert text.index("[hosts.web2]") < text.index("# The web server") < text.index(
        "[[services]]")
    assert load_config(conf).hosts["web2"].port == 2222


def test_an_invalid_edit_is_refused_with_its_errors_and_nothing_is_written(conf: Path) -> None:
    before = conf.read_bytes()
    with pytest.raises(ApiError) as info:
        edit_file(conf, add_service({"slug": "Bad Slug", "name": "X", "host": "nowhere",
                                     "unit": "x.service"}))
    assert info.value.status == 422 and info.value.code == "config_invalid"
    errors = info.value.extra["errors"]
    assert any("slug" in e for e in errors) and any("unknown host 'nowhere'" in e for e in errors)
    assert conf.read_bytes() == before
    assert not (conf.parent / "backups").exists()


def test_an_edit_made_on_an_old_revision_is_refused(conf: Path) -> None:
    seen = revision_of(conf.read_bytes())
    edit_file(conf, remove_service("web"), base=seen)
    with pytest.raises(ApiError) as info:
        edit_file(conf, add_service({"slug": "web", "name": "Web", "host": "web1",
                                     "unit": "nginx"}), base=seen)
    assert info.value.status == 409 and info.value.code == "config_changed"
    assert "web" not in load_config(conf).services


def test_each_edit_keeps_a_backup_and_the_file_mode(conf: Path) -> None:
    first = conf.read_bytes()
    edit_file(conf, remove_service("web"))
    backups = list((conf.parent / "backups").iterdir())
    assert [b.read_bytes() for b in backups] == [first]
    assert oct(backups[0].stat().st_mode & 0o777) == "0o600"
    assert oct(conf.stat().st_mode & 0o777) == "0o640"
    assert not [p for p in conf.parent.iterdir() if p.name.endswith(".tmp")]


def test_preview_writes_nothing(conf: Path) -> None:
    before = conf.read_bytes()
    config = preview(conf, add_service({"slug": "db", "name": "DB", "host": "web1",
                                        "unit": "postgresql"}))
    assert "db" in config.services and conf.read_bytes() == before


def test_concurrent_editors_lose_nothing(conf: Path) -> None:
    def add(i: int) -> None:
        edit_file(conf, add_service({"slug": f"s{i}", "name": f"S{i}", "host": "web1",
                                     "unit": f"s{i}.service"}))
    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {f"s{i}" for i in range(8)} <= set(load_config(conf).services)


def test_a_duplicate_slug_or_a_missing_service_is_a_clear_error(conf: Path) -> None:
    with pytest.raises(ApiError) as dup:
        edit_file(conf, add_service({"slug": "web", "name": "W", "host": "web1", "unit": "x"}))
    assert dup.value.code == "service_exists"
    with pytest.raises(ApiError) as gone:
        edit_file(conf, remove_service("nope"))
    assert gone.value.status == 404


def test_the_demo_config_keeps_what_the_user_added_across_restarts(tmp_path: Path) -> None:
    from recon.demo.info import TargetInfo
    from recon.demo.recon_config import demo_config_toml

    def target(address: str, run: str) -> TargetInfo:
        return TargetInfo(name="alpha", address=address, port=22, user="recon-demo",
                          key_path=Path(run) / "id", known_hosts_path=Path(run) / "kh",
                          host_key_line="x", systemctl="/usr/bin/systemctl",
                          journalctl="/usr/bin/journalctl", sudo="/usr/bin/sudo",
                          units=("demo-web.service",), root=tmp_path)
    first = demo_config_toml([target("127.0.0.2", "/run/a")])
    edited = first + ('\n# mine\n[[services]]\nslug = "extra"\nname = "Extra"\n'
                      'host = "alpha"\nunit = "demo-extra.service"\n'
                      '\n[notify.ops]\ntype = "webhook"\nurl = "http://127.0.0.1:9/"\n')
    again = refresh_demo_config(edited, [target("127.0.0.9", "/run/b")])
    assert 'address = "127.0.0.9"' in again and "/run/b/id" in again and "/run/b/kh" in again
    assert "/run/a" not in again
    assert 'slug = "extra"' in again and "# mine" in again and "[notify.ops]" in again


def test_a_write_is_atomic_for_readers(conf: Path) -> None:
    """A reader sees the old file or the new one: the rename replaces the inode."""
    inode = os.stat(conf).st_ino
    edit_file(conf, remove_service("web"))
    assert os.stat(conf).st_ino != inode
